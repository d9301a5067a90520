"""The GitHub action's shell steps (action/peakday-action.sh), run here with fake GITHUB_*
variables against a real short run: summary into the job summary, outputs, and the job's exit
code from peakday's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "action" / "peakday-action.sh"


def github_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """A runner's environment: peakday and python on PATH (this interpreter), GitHub's files."""
    shims = tmp_path / "shims"
    shims.mkdir(exist_ok=True)
    (shims / "peakday").write_text(f'#!/bin/sh\nexec {sys.executable} -m peakday "$@"\n')
    (shims / "peakday").chmod(0o755)
    if not (shims / "python").exists():
        (shims / "python").symlink_to(sys.executable)
    (tmp_path / "runner").mkdir(exist_ok=True)
    return {
        **os.environ,
        "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        "RUNNER_TEMP": str(tmp_path / "runner"),
        **settings,
    }


def step(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), command],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def outputs(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "github_output").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.mark.slow
def test_a_real_run_fills_the_job_summary_and_the_outputs(tmp_path: Path) -> None:
    env = github_env(tmp_path, PEAKDAY_EXPERIMENT="smoke", PEAKDAY_OUT="results-dir")
    ran = step("run", env, tmp_path)
    assert ran.returncode == 0, ran.stderr  # the run step never fails; finish does
    found = outputs(tmp_path)
    assert found["results-dir"] == "results-dir"
    # judged (pass/warn 0, fail 1; on a loaded machine maybe baseline-not-met 5), never refused
    assert found["exit-code"] in ("0", "1", "5"), ran.stdout + ran.stderr
    assert found["verdict"] not in ("none", "unknown")
    summary = (tmp_path / "results-dir" / "summary.md").read_text()
    assert (tmp_path / "step_summary.md").read_text() == summary
    finished = step("finish", {**env, "PEAKDAY_EXIT_CODE": found["exit-code"]}, tmp_path)
    assert finished.returncode == int(found["exit-code"])


def test_bad_input_fails_the_job_with_exit_2_and_says_why_in_the_summary(tmp_path: Path) -> None:
    env = github_env(tmp_path, PEAKDAY_EXPERIMENT="no-such-experiment")
    assert step("run", env, tmp_path).returncode == 0
    found = outputs(tmp_path)
    assert (found["exit-code"], found["verdict"]) == ("2", "none")
    summary = (tmp_path / "step_summary.md").read_text()
    assert "did not produce a result (exit 2)" in summary
    assert "peakday experiments" in summary  # the error's hint reaches the reader
    assert step("finish", {**env, "PEAKDAY_EXIT_CODE": "2"}, tmp_path).returncode == 2
    assert step("finish", {**env, "PEAKDAY_EXIT_CODE": ""}, tmp_path).returncode == 3
