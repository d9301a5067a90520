"""Scoring on one real smoke run: the resiliency matrix, recovery, and re-scoring from disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from integration.peakday_process import REPO, cli_env, start_run
from peakday.results.model import Result

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    run_dir = tmp_path_factory.mktemp("scoring") / "run"
    run = start_run(["run", "experiments/smoke.yaml"], run_dir)
    code, out, err = run.wait(timeout_s=150)
    return code, out + err, run_dir


def load(run_dir: Path) -> Result:
    return Result.model_validate_json((run_dir / "result.json").read_text())


def peakday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "peakday", *args],
        cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_smoke_run_passes_with_a_score_and_a_held_steady_state(scored_run) -> None:  # type: ignore[no-untyped-def]
    code, output, run_dir = scored_run
    assert code == 0, output
    result = load(run_dir)
    assert result.outcome == "pass"
    assert result.score is not None and result.score.total is not None
    assert result.score.total >= result.score.pass_score
    assert result.baseline_check is not None and result.baseline_check.met
    assert result.stops == ()


def test_login_is_degraded_and_recovers_while_checkout_is_untouched(scored_run) -> None:  # type: ignore[no-untyped-def]
    _, _, run_dir = scored_run
    result = load(run_dir)
    assert result.matrix is not None
    login = result.matrix.cell("login-latency", "login")
    checkout = result.matrix.cell("login-latency", "checkout")
    assert login is not None and checkout is not None
    assert login.status == "degraded", login
    assert login.p95_ratio is not None and login.p95_ratio > 1.5
    assert login.recovery == "recovered", login
    assert login.time_to_recover_s is not None and 0 <= login.time_to_recover_s < 10
    assert login.time_to_detect_s is not None and login.time_to_detect_s <= 3
    assert checkout.status == "pass", checkout
    (impact,) = result.fault_impacts
    assert "login" in impact.blast_radius and "checkout" not in impact.blast_radius


def test_rescoring_the_saved_run_gives_the_same_judgement(scored_run) -> None:  # type: ignore[no-untyped-def]
    from peakday.scoring.evaluate import rescore

    _, _, run_dir = scored_run
    result = load(run_dir)
    again = rescore(result)
    assert (again.slos, again.score, again.matrix, again.outcome) == (
        result.slos, result.score, result.matrix, result.outcome,
    )  # fmt: skip
    done = peakday("score", str(run_dir), "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Resiliency matrix" in done.stdout


def test_a_stricter_spec_fails_the_same_run_without_running_it_again(
    scored_run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, _, run_dir = scored_run
    strict = tmp_path / "strict.yaml"
    text = (REPO / "experiments/smoke.yaml").read_text()
    strict.write_text(
        text.replace(
            'objective: "< 2s", phase: fault',
            'objective: "<= 1.2x baseline", phase: fault, key: true',
        )
    )
    done = peakday("score", str(run_dir), "--spec", str(strict), "--dry-run")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "login-bounded-under-fault" in done.stdout
