"""Rendered reports against the files in tests/golden/, byte for byte.

To re-bless after an intended change:

    PEAKDAY_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/reporting/test_golden.py

An update run is never green: each golden file that differed is rewritten and its test fails,
naming the file, and `test_an_update_run_is_not_a_check` fails as well even when nothing
differed, so setting the variable (in CI, say) cannot turn a changed report into a pass. Then
review `git diff tests/golden` like code (it is exactly what users will see change) and run
again without the variable: that run must be green.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from peakday.reporting.resources import ResourceSeries, resource_series
from peakday.reporting.writer import render_reports
from peakday.results.columns import CompactTimeline
from peakday.results.folder import REPORT_FILES
from peakday.results.model import Result
from unit.reporting.sample_results import load_smoke, open_model, resource_records, scored

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def _scored_with_resources() -> tuple[Result, tuple[ResourceSeries, ...]]:
    result = scored(load_smoke())
    return result, resource_series(resource_records(result), result.run.load_started_wall, 30.0)


RESULTS: dict[str, Callable[[], tuple[Result, tuple[ResourceSeries, ...]]]] = {
    "smoke": lambda: (load_smoke(), ()),
    "smoke-scored": _scored_with_resources,
    "open-model": lambda: (open_model(load_smoke()), ()),
}


UPDATE = os.environ.get("PEAKDAY_UPDATE_GOLDEN") == "1"
RERUN = "review `git diff tests/golden`, then run again without PEAKDAY_UPDATE_GOLDEN"


def test_an_update_run_is_not_a_check() -> None:
    """Red whenever the variable is set: a run that may rewrite its goldens proves nothing."""
    if UPDATE:
        pytest.fail(
            f"PEAKDAY_UPDATE_GOLDEN=1 re-blesses instead of checking; {RERUN}", pytrace=False
        )


def test_every_case_and_report_has_a_golden_file_and_nothing_else_does() -> None:
    """The parametrized comparison below covers every report of every case, and no golden file
    is left over from a case or report that no longer exists."""
    on_disk = {str(path.relative_to(GOLDEN)) for path in GOLDEN.glob("*/*") if path.is_file()}
    expected = {f"{case}/{file_name}" for case in RESULTS for file_name in REPORT_FILES}
    assert expected, "nothing to compare"
    assert on_disk == expected


@pytest.mark.parametrize("file_name", REPORT_FILES)
@pytest.mark.parametrize("case", sorted(RESULTS))
def test_rendered_report_matches_golden_file(case: str, file_name: str) -> None:
    rendered = render_reports(*RESULTS[case]())[file_name]
    path = GOLDEN / case / file_name
    golden = path.read_text(encoding="utf-8") if path.exists() else None
    if UPDATE and rendered != golden:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
        pytest.fail(f"rewrote golden file {path}; {RERUN}", pytrace=False)
    assert golden is not None, (
        f"no golden file {path}; run with PEAKDAY_UPDATE_GOLDEN=1 to create it"
    )
    assert rendered == golden, (
        f"{case}/{file_name} changed; if intended, re-bless with PEAKDAY_UPDATE_GOLDEN=1 and "
        "review the diff"
    )


@pytest.mark.parametrize("file_name", REPORT_FILES)
@pytest.mark.parametrize("case", sorted(RESULTS))
def test_reports_from_a_timeline_held_as_columns_match_golden_file(
    case: str, file_name: str
) -> None:
    """A result read from disk holds its timeline as columns (results/columns.py); its reports
    are the same bytes as from a tuple of rows."""
    result, resources = RESULTS[case]()
    compact = result.model_copy(update={"timeline": CompactTimeline(result.timeline)})
    golden = (GOLDEN / case / file_name).read_text(encoding="utf-8")
    assert render_reports(compact, resources)[file_name] == golden
