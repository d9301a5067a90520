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
