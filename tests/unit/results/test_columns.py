"""The timeline held as columns: the same rows back, and the same answers from them."""

from __future__ import annotations

import dataclasses
import math

from peakday.reporting.model import step_views
from peakday.results.columns import (
    FLOAT_FIELDS,
    INT_FIELDS,
    OTHER_FIELDS,
    TEXT_FIELDS,
    CompactTimeline,
)
from peakday.results.model import TimelineRow
from peakday.scoring.evaluate import rescore
from peakday.scoring.phases import last_second, rows_where, step_names
from unit.reporting.sample_results import load_smoke, open_model, scored


def _row(t_s: int, name: str = "login", **extra: object) -> TimelineRow:
    fields: dict[str, object] = dict(requests=10, failures=1, p50_ms=5.0, p95_ms=9.5, p99_ms=None)
    fields.update(extra)
    return TimelineRow(t_s=t_s, name=name, **fields)  # type: ignore[arg-type]


def test_every_field_of_a_row_has_a_column() -> None:
    held = {*INT_FIELDS, *FLOAT_FIELDS, *TEXT_FIELDS, *OTHER_FIELDS}
    assert held == {field.name for field in dataclasses.fields(TimelineRow)}


def test_rows_come_back_equal_also_the_ones_kept_whole() -> None:
    rows = (
        _row(0, histogram="HISTFAAAA=="),
        _row(1, name="checkout", failures_by_kind={"5xx": 1}),  # kept whole
        _row(2, uncorrected_p95_ms=12.0, uncorrected_histogram="HISTFBBB"),  # column appears
        _row(3, value=math.inf),
        _row(4, name="prometheus:x", requests=0, failures=0, p50_ms=None, p95_ms=None, value=0.5),
        _row(5, requests=2**70),  # beyond 64 bits: kept whole
        _row(-1, p95_ms=0.0),
    )
    timeline = CompactTimeline(rows)
    assert len(timeline) == len(rows)
    assert list(timeline) == list(rows)
    assert timeline == rows
    assert timeline[1].failures_by_kind == {"5xx": 1}
    assert timeline[-1] == rows[-1]
    assert tuple(timeline[1:3]) == rows[1:3]
    assert timeline[0].uncorrected_p95_ms is None and timeline[2].uncorrected_p95_ms == 12.0


def test_a_nan_value_is_not_read_back_as_none() -> None:
    timeline = CompactTimeline([_row(0, value=math.nan)])
    value = timeline[0].value
    assert value is not None and math.isnan(value)


def test_where_builds_the_rows_of_the_steps_asked_for() -> None:
    rows = [_row(t, name) for t in range(6) for name in ("login", "checkout")]
    rows.append(_row(9, "checkout", failures_by_kind={"timeout": 1}))
    timeline = CompactTimeline(rows)
    for steps in (("checkout",), ("login", "checkout"), ("absent",)):
        expected = [r for r in rows if r.name in steps and r.t_s % 3 == 0]
        assert list(rows_where(timeline, steps, lambda t: t % 3 == 0)) == expected
        assert list(rows_where(rows, steps, lambda t: t % 3 == 0)) == expected


def test_a_real_result_scores_and_renders_the_same_from_columns() -> None:
    for result in (scored(load_smoke()), open_model(load_smoke())):
        compact = result.model_copy(update={"timeline": CompactTimeline(result.timeline)})
        assert rescore(compact) == rescore(result)
        assert step_views(compact) == step_views(result)


def test_step_names_and_last_second_come_from_the_columns_also_for_whole_rows() -> None:
    rows = [_row(3, "login"), _row(7, "checkout", failures_by_kind={"reset": 1}), _row(5)]
    timeline = CompactTimeline(rows)
    assert (step_names(timeline), last_second(timeline)) == ({"login", "checkout"}, 7)
    assert (step_names(rows), last_second(rows)) == ({"login", "checkout"}, 7)
    assert last_second(CompactTimeline()) is None
