from __future__ import annotations

from pathlib import Path

import pytest

from peakday.reporting import writer
from peakday.results.model import Result


def test_writes_every_report_next_to_the_result(tmp_path: Path, smoke_result: Result) -> None:
    written = writer.write_reports(smoke_result, tmp_path / "run")
    assert sorted(p.name for p in written) == [
        "junit.xml",
        "report.html",
        "summary.md",
        "summary.svg",
    ]
    assert all(p.stat().st_size > 0 for p in written)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(p.name for p in written)


def test_rerendering_replaces_files_whole(tmp_path: Path, smoke_result: Result) -> None:
    (tmp_path / "report.html").write_text("old")
    writer.write_reports(smoke_result, tmp_path)
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob(".*tmp*"))


def test_reports_from_a_saved_result_and_none_without_one(
    tmp_path: Path, smoke_result: Result
) -> None:
    assert writer.write_reports_if_result(tmp_path) == []
    (tmp_path / "result.json").write_text(smoke_result.model_dump_json())
    assert len(writer.write_reports_if_result(tmp_path)) == 4


def test_a_renderer_failure_warns_instead_of_raising(
    tmp_path: Path, smoke_result: Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(result: Result, resources: object = ()) -> dict[str, str]:
        raise RuntimeError("boom")

    monkeypatch.setattr(writer, "render_reports", broken)
    warnings: list[str] = []
    writer.write_reports_or_warn(smoke_result, tmp_path, warnings.append)
    assert len(warnings) == 1 and "boom" in warnings[0] and "peakday report" in warnings[0]


def test_service_resources_beside_the_result_reach_the_html(
    tmp_path: Path, smoke_result: Result
) -> None:
    import json

    from unit.reporting.sample_results import resource_records

    lines = "".join(json.dumps(r) + "\n" for r in resource_records(smoke_result))
    (tmp_path / "resources.jsonl").write_text(lines)
    writer.write_reports(smoke_result, tmp_path)
    assert "services: CPU %" in (tmp_path / "report.html").read_text()
