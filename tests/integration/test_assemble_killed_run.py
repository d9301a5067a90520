"""A run SIGKILLed mid-fault: `peakday clean` stops what it left, `peakday assemble` scores what
it wrote, and `peakday report` renders it."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from integration.peakday_process import REPO, cli_env, start_run
from peakday.results.store import load_result

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def kinds(run_dir: Path) -> list[str]:
    path = run_dir / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["kind"] for line in path.read_text().splitlines() if line.strip()]


def seconds_measured(run_dir: Path) -> set[int]:
    """The seconds the Locust side has settled and written so far."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return set()
    found = set()
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line still being written
        if record.get("kind") == "metrics":
            found.add(int(record["t_s"]))
    return found


def applied_at_s(run_dir: Path) -> float:
    records = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    t0 = next(r["wall"] for r in records if r["kind"] == "load_started")
    return float(next(r["wall"] for r in records if r["kind"] == "fault_applied")) - t0


def peakday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "peakday", *args],
        cwd=REPO,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_sigkilled_run_is_cleaned_then_assembled_into_a_scored_result(tmp_path: Path) -> None:
    run_dir = tmp_path / "killed"
    run = start_run(["run", "experiments/smoke.yaml"], run_dir)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and run.popen.poll() is None:
        run.poll_children()
        if "fault_applied" in kinds(run_dir):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the fault was never applied")
    # Kill once two whole seconds inside the fault are on disk (the plugin writes a second when
    # it has settled, which on a busy machine can take a few seconds).
    inside = math.ceil(applied_at_s(run_dir)) + 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and inside not in seconds_measured(run_dir):
        time.sleep(0.1)
    assert inside in seconds_measured(run_dir), "no second of the fault was measured"
    run.poll_children()
    run.popen.send_signal(signal.SIGKILL)
    run.popen.communicate(timeout=30)
    assert not (run_dir / "result.json").exists(), "a SIGKILLed run cannot have written it"
    assert "run_ended" not in kinds(run_dir)

    cleaned = peakday("clean", "--no-docker", str(tmp_path))
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert run.survivors() == [], "peakday clean left processes of the killed run"

    assembled = peakday("assemble", str(run_dir))
    assert assembled.returncode == 130, assembled.stdout + assembled.stderr
    result = load_result(run_dir)
    assert (result.run.status, result.outcome) == ("interrupted", "interrupted")
    assert "assembled from what it wrote" in (result.run.error or "")
    fault = result.faults[0]
    assert fault.applied_at_s is not None and fault.applied_at_s >= 12.0
    assert fault.removed_at_s is None  # the kill left it on; clean removed the proxy with it
    logins = [row for row in result.timeline if row.name == "login" and row.requests]
    assert logins, "what was measured before the kill is scored"
    assert result.run.load_ended_s is not None
    assert fault.applied_at_s < result.run.load_ended_s <= fault.applied_at_s + 6.0
    assert [p.kind for p in result.phases].count("fault") == 1
    assert (run_dir / "report.html").is_file()

    rendered = peakday("report", str(run_dir))
    assert rendered.returncode == 130, rendered.stdout + rendered.stderr
    assert "INTERRUPTED" in rendered.stdout.upper()
