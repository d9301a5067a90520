"""report, compare and history through the CLI (click's runner, no processes)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from peakday.cli import main
from peakday.results.model import Result


def save(result: Result, folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(result.model_dump_json(indent=2))
    return folder


def test_report_rerenders_every_file_and_exits_like_the_run(
    tmp_path: Path, failing_result: Result
) -> None:
    run_dir = save(failing_result, tmp_path / "run")
    outcome = CliRunner().invoke(main, ["report", str(run_dir)])
    assert outcome.exit_code == 1, outcome.output
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == ["junit.xml", "report.html", "result.json", "summary.md", "summary.svg"]
    assert "smoke: FAIL" in outcome.output and "report.html" in outcome.output


def test_report_on_a_folder_without_result_is_a_usage_error(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert outcome.exit_code == 2
    assert "No result at" in outcome.output


def test_compare_exits_1_on_a_regression_and_0_otherwise(
    tmp_path: Path, smoke_result: Result, failing_result: Result
) -> None:
    good = save(smoke_result, tmp_path / "good")
    bad = save(failing_result, tmp_path / "bad")
    same = CliRunner().invoke(main, ["compare", str(good), str(good)])
    assert same.exit_code == 0, same.output
    assert "No regression beyond noise" in same.output
    worse = CliRunner().invoke(main, ["compare", str(good), str(bad)])
    assert worse.exit_code == 1, worse.output
    assert "REGRESSION" in worse.output and "login-fast-at-baseline" in worse.output
    better = CliRunner().invoke(main, ["compare", str(bad), str(good)])
    assert better.exit_code == 0


def test_history_lists_runs_oldest_first_and_filters(
    tmp_path: Path, smoke_result: Result, failing_result: Result, scored_result: Result
) -> None:
    later = failing_result.run.model_copy(update={"started_at": "2026-12-01T00:00:00+00:00"})
    save(failing_result.model_copy(update={"run": later}), tmp_path / "results" / "b")
    save(smoke_result, tmp_path / "results" / "a")
    (tmp_path / "results" / "junk").mkdir()
    (tmp_path / "results" / "junk" / "result.json").write_text("{not json")
    runner = CliRunner()
    outcome = runner.invoke(
        main, ["history", "--results", str(tmp_path / "results")], terminal_width=200
    )
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.index("pass") < outcome.output.index("fail")
    assert "1 unreadable result.json" in outcome.output
    none = runner.invoke(
        main, ["history", "--results", str(tmp_path / "results"), "--experiment", "other"]
    )
    assert none.exit_code == 0 and "No runs of 'other'" in none.output
