"""Rendered reports against the files in tests/golden/; re-bless with PEAKDAY_UPDATE_GOLDEN=1.

Review the diff of a re-bless like code: it is exactly what users will see change.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from peakday.reporting.resources import ResourceSeries, resource_series
from peakday.reporting.writer import REPORT_FILES, render_reports
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


@pytest.mark.parametrize("file_name", REPORT_FILES)
@pytest.mark.parametrize("case", sorted(RESULTS))
def test_rendered_report_matches_golden_file(case: str, file_name: str) -> None:
    rendered = render_reports(*RESULTS[case]())[file_name]
    path = GOLDEN / case / file_name
    if os.environ.get("PEAKDAY_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with PEAKDAY_UPDATE_GOLDEN=1 to create it"
    assert rendered == path.read_text(encoding="utf-8"), (
        f"{case}/{file_name} changed; if intended, re-bless with PEAKDAY_UPDATE_GOLDEN=1 and "
        "review the diff"
    )
