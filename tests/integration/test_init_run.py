"""`peakday init` then `peakday run` of what it wrote, for real, from an empty folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_init_then_run_on_the_local_platform(tmp_path: Path) -> None:
    def peakday(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "peakday", *args],
            cwd=tmp_path,
            env=os.environ,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert peakday("init", "first").returncode == 0
    ran = peakday("run", "first.yaml", "--out", "out", "--no-color", "-q")
    assert ran.returncode in (0, 1), ran.stdout + ran.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["experiment"]["name"] == "first"
    assert result["verdict"] in ("pass", "warn", "fail")


def test_init_external_then_run_against_a_real_http_server(tmp_path: Path) -> None:
    """The external starter as written, only its upstream's port changed to a real server's."""
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = server.stdout.readline().split("port ")[1].split(" ")[0]
        written = subprocess.run(
            [sys.executable, "-m", "peakday", "init", "--platform", "external", "shop"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert written.returncode == 0, written.stderr
        spec = tmp_path / "shop.yaml"
        spec.write_text(spec.read_text().replace('"127.0.0.1:8080"', f'"127.0.0.1:{port}"'))
        ran = subprocess.run(
            [sys.executable, "-m", "peakday", "run", "shop.yaml", "--out", "out", "-q"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        # Judged, not refused: 0/1, or 5 when the loaded machine made the baseline too slow.
        assert ran.returncode in (0, 1, 5), ran.stdout + ran.stderr
        result = json.loads((tmp_path / "out" / "result.json").read_text())
        judged = {slo["name"]: slo for slo in result["slos"]}
        assert judged["home-succeeds"]["verdict"] == "pass"
    finally:
        server.terminate()
        server.wait(timeout=10)
