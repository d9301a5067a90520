"""`peakday plan` and `peakday score` through click, on synthetic results (no processes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from peakday.assemble import assemble_result
from peakday.cli import main
from peakday.results.events import events_from_records
from peakday.results.model import Result, RunInfo
from unit.scoring.synthetic import (
    LOGIN_FAULT,
    experiment,
    platform_ready,
    row,
    slo,
    traffic_records,
)
from unit.scoring.test_assemble import T0, record

SPEC_TEXT = """\
name: synthetic
load: {users: 10, spawn_rate: 10, duration: 100s, warmup: 10s}
faults:
  - {name: f, at: 40s, duration: 20s, proxy: auth_login, toxic: latency, attributes: {latency: 100}}
slos:
  - {name: login-fast, request: login, metric: p95, objective: "OBJECTIVE", phase: fault, key: true}
"""


def write_run(folder: Path, fault_ms: float = 100.0) -> Path:
    spec = experiment(
        faults=[LOGIN_FAULT], slos=[slo("login-fast", "login", "p95", "< 800ms", phase="fault")]
    )
    events = [
        platform_ready(T0 - 1),
        {"kind": "load_started", "wall": T0},
        {"kind": "fault_applied", "wall": T0 + 40, "fault_index": 0},
        {"kind": "fault_removed", "wall": T0 + 60, "fault_index": 0},
    ]
    rows = [row(t, "login", ms=fault_ms if 40 <= t < 60 else 20.0) for t in range(0, 100)]
    metrics = [{"kind": "load_started", "wall": T0}, *(record(r) for r in rows)]
    run = RunInfo(id=folder.name, platform="local", started_at="now", peakday_version="0")
    traffic = traffic_records(T0, range(-1, 101))
    result = assemble_result(spec, run, events_from_records(events), metrics, {}, None, traffic)
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(result.model_dump_json())
    return folder


def spec_file(tmp_path: Path, objective: str, extra: str = "") -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC_TEXT.replace("OBJECTIVE", objective) + extra)
    return path


def saved(folder: Path) -> Result:
    return Result.model_validate_json((folder / "result.json").read_text())


def test_score_dry_run_prints_the_scorecard_and_leaves_the_result_alone(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    before = (run / "result.json").read_text()
    outcome = CliRunner().invoke(main, ["score", str(run), "--dry-run"])
    assert outcome.exit_code == 0, outcome.output
    assert "Resilience score 100/100" in outcome.output
    assert "Resiliency matrix" in outcome.output
    assert "f: blast radius login; detected after 1s; recovered after 1s" in outcome.output
    assert (run / "result.json").read_text() == before


def test_score_with_a_changed_spec_rejudges_and_rewrites_the_result(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    outcome = CliRunner().invoke(
        main, ["score", str(run), "--spec", str(spec_file(tmp_path, "< 30ms"))]
    )
    assert outcome.exit_code == 1, outcome.output
    result = saved(run)
    assert (result.outcome, result.slos[0].objective, result.slos[0].key) == (
        "fail",
        "< 30ms",
        True,
    )
    assert result.score is not None and result.score.key_failures == ("login-fast",)


def test_score_compares_with_a_reference_run_named_on_the_command_line(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", fault_ms=100)
    last_good = write_run(tmp_path / "last-good", fault_ms=96)
    spec = spec_file(tmp_path, "<= +10%", "scoring: {compare_to: nowhere}\n")
    outcome = CliRunner().invoke(
        main, ["score", str(run), "--spec", str(spec), "--compare-to", str(last_good)]
    )
    assert outcome.exit_code == 0, outcome.output
    result = saved(run)
    assert result.reference is not None and result.reference.run_id == "last-good"
    assert result.slos[0].reference_value == pytest.approx(96.0, rel=2e-3)
    assert result.experiment.scoring.compare_to == str(last_good)


def test_score_reports_a_missing_reference_run_with_a_hint(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    outcome = CliRunner().invoke(main, ["score", str(run), "--compare-to", str(tmp_path / "gone")])
    assert outcome.exit_code == 2
    assert "Hint:" in outcome.output


def test_score_of_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["score", str(tmp_path / "nothing")]).exit_code == 2


def test_plan_prints_phases_faults_stop_conditions_and_slos(repo: Path) -> None:
    outcome = CliRunner().invoke(
        main, ["plan", str(repo / "experiments/cyber-monday-login-outage.yaml")]
    )
    assert outcome.exit_code == 0, outcome.output
    text = outcome.output
    for expected in (
        "40s   55s   fault:login-slow",
        "latency: latency 1500 ms, jitter 250 ms; downstream",
        "Steady-state check at 40s: login-fast-at-baseline",
        "checkout-collapse  checkout success_rate < 90%  10s",
        "checkout-holds",
        "Checked now: proxies auth_login; services auth; steps checkout, label, login, "
        "pos_checkout (the storefront journeys' request names): all exist.",
        "After the run: every applied fault must have reached traffic",
    ):
        assert expected in text, expected


def test_plan_of_an_invalid_file_names_the_line(tmp_path: Path) -> None:
    bad = spec_file(tmp_path, "< 1 parsec")
    outcome = CliRunner().invoke(main, ["plan", str(bad)])
    assert outcome.exit_code == 2
    assert "spec.yaml:6" in outcome.output


def test_plan_checks_that_the_reference_run_exists(tmp_path: Path) -> None:
    spec = spec_file(tmp_path, "<= +10%", "scoring: {compare_to: no-such-run}\n")
    outcome = CliRunner().invoke(main, ["plan", str(spec)])
    assert outcome.exit_code == 2
    assert "no-such-run" in outcome.output


def test_score_writes_json_that_older_readers_can_still_load(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    data = json.loads((run / "result.json").read_text())
    assert {"outcome", "score", "matrix", "fault_impacts", "stops"} <= set(data)
