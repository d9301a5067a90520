"""action.yml: the composite action calls its script's steps and uploads the run folder even
when the run failed, failing the job only afterwards, by peakday's exit code."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]


def test_the_action_runs_install_run_upload_then_fails_by_the_exit_code() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    scripted = [s["run"].split()[-1] for s in steps if "run" in s]
    assert scripted == ["install", "run", "finish"]
    assert all("action/peakday-action.sh" in s["run"] for s in steps if "run" in s)
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["if"] == "always()"
    assert steps.index(upload) < len(steps) - 1  # before the step that fails the job
    run_step = next(s for s in steps if s.get("id") == "run")
    assert steps[-1]["env"]["PEAKDAY_EXIT_CODE"] == "${{ steps.run.outputs.exit-code }}"
    assert set(action["outputs"]) == {"exit-code", "verdict", "results-dir"}
    assert run_step["env"]["PEAKDAY_EXPERIMENT"] == "${{ inputs.experiment }}"
    assert (REPO / "action" / "peakday-action.sh").stat().st_mode & 0o111


def test_install_defaults_to_the_actions_own_checkout_and_refuses_nothing(tmp_path: Path) -> None:
    """peakday is not on PyPI: with no package and no GITHUB_ACTION_PATH the step stops (exit 2)
    instead of asking pip for a name that is not there; the action passes no package by default."""
    import subprocess

    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["inputs"]["package"]["default"] == ""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        ["bash", str(REPO / "action" / "peakday-action.sh"), "install"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2, done.stderr
    assert "nothing to install" in done.stderr
