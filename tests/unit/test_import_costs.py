"""What each entry point costs before and after its work: heavy libraries stay out of the paths
that do not use them, and the interpreter's last garbage collection has nothing to walk.

The `peakday` command loads its subcommands' modules to list them, so those modules import only
click at the top and their own dependencies inside the command; `peakday run` on the external
platform needs neither httpx (admin endpoints of the storefront) nor the docker SDK. Each
check runs in a fresh interpreter, since this one has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pydantic", "jinja2", "httpx", "requests", "yaml", "hdrh", "docker", "psutil", "locust")


def imported_after(code: str) -> set[str]:
    """Top-level packages in sys.modules after running `code` in a new interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return {name.split(".")[0] for name in json.loads(completed.stdout.splitlines()[-1])}


def test_the_command_group_and_its_help_import_no_heavy_library() -> None:
    loaded = imported_after(
        "from peakday.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert sorted(loaded & set(HEAVY)) == []


@pytest.mark.parametrize("command", ["run", "score", "report", "validate", "clean", "images"])
def test_a_command_s_help_imports_no_heavy_library(command: str) -> None:
    loaded = imported_after(
        "from peakday.cli import main\n"
        "try:\n"
        f"    main([{command!r}, '--help'])\n"
        "except SystemExit:\n"
        "    pass"
    )
    assert sorted(loaded & set(HEAVY)) == []


def test_the_external_run_path_imports_neither_httpx_nor_docker() -> None:
    loaded = imported_after(
        "import peakday.commands.run, peakday.orchestrator, peakday.platforms.factory\n"
        "import peakday.platforms.external, peakday.reporting.live, peakday.reporting.writer\n"
        "import peakday.reporting.terminal, peakday.runconfig, peakday.load.runner"
    )
    assert "pydantic" in loaded  # the check sees what these modules import
    assert sorted(loaded & {"httpx", "docker", "locust", "gevent"}) == []


def test_the_external_run_path_talks_http_without_requests() -> None:
    """Toxiproxy's API, its /metrics and the readiness checks, each called (against a port
    nothing listens on), load neither requests (nor urllib3) nor toxiproxy-python."""
    loaded = imported_after(
        "import peakday.commands.run, peakday.orchestrator, peakday.platforms.factory\n"
        "import peakday.platforms.external\n"
        "from peakday.errors import ToxiproxyError\n"
        "from peakday.faults.toxiproxy import ToxiproxyHttpClient\n"
        "from peakday.faults.traffic import ToxiproxyMetrics\n"
        "from peakday.processes.children import free_loopback_ports\n"
        "from peakday.processes.waiting import http_ok, poll_until\n"
        "(port,) = free_loopback_ports(1)\n"
        "try:\n"
        "    ToxiproxyHttpClient('127.0.0.1', port).version()\n"
        "except ToxiproxyError:\n"
        "    pass\n"
        "try:\n"
        "    ToxiproxyMetrics(f'127.0.0.1:{port}').read()\n"
        "except OSError:\n"
        "    pass\n"
        "assert not poll_until(http_ok(f'http://127.0.0.1:{port}/version'), timeout_s=0)"
    )
    assert "peakday" in loaded  # the check sees what was imported
    assert sorted(loaded & {"requests", "urllib3", "toxiproxy"}) == []


def test_a_command_freezes_what_it_made_before_the_interpreter_s_last_collection() -> None:
    code = (
        "import atexit, gc\n"
        "from peakday.cli import main\n"
        "for _ in range(2):\n"
        "    try:\n"
        "        main(['experiments'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "before = gc.get_freeze_count()\n"
        "atexit._run_exitfuncs()\n"
        "print(before, gc.get_freeze_count())"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    before, after = (int(word) for word in completed.stdout.split()[-2:])
    assert before == 0 and after > 10_000
