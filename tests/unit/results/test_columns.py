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
from peakday.results.encoding import read_result_lines, result_json_chunks
from peakday.results.model import Result, TimelineRow
from peakday.scoring.evaluate import rescore
from peakday.scoring.phases import (
    _step_values,
    last_second,
    rows_where,
    step_floats,
    step_ints,
    step_kinds,
    step_names,
)
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


def test_values_read_each_field_as_the_rows_give_it() -> None:
    rows = [
        _row(0, histogram="HISTFAAAA=="),
        _row(1, "checkout", failures_by_kind={"5xx": 1}, p95_ms=3.0),  # kept whole
        _row(1, uncorrected_p95_ms=12.0, uncorrected_histogram="HISTFBBB"),  # column appears
        _row(2, value=math.nan),  # kept whole: NaN stays NaN
        _row(2, "checkout", requests=2**70),  # kept whole
        _row(3, p50_ms=None),
    ]
    timeline = CompactTimeline(rows)
    for step in ("login", "checkout", "absent"):
        mine = [r for r in rows if r.name == step]
        for field in (*INT_FIELDS, *FLOAT_FIELDS, *TEXT_FIELDS, *OTHER_FIELDS):
            expected = [getattr(r, field) for r in mine]
            got = timeline.values(step, field)
            assert repr(got) == repr(expected), (step, field)  # repr: NaN equals itself
            assert repr(_step_values(rows, step, field)) == repr(expected)
    assert step_ints(timeline, "login", "t_s") == [0, 1, 2, 3]
    assert step_floats(timeline, "checkout", "p95_ms") == [3.0, 9.5]
    assert step_kinds(timeline, "checkout") == [{"5xx": 1}, {}]


def test_rows_added_a_chunk_at_a_time_equal_rows_added_one_by_one() -> None:
    rows = [_row(t, name, p90_ms=float(t) if t > 3 else None) for t in range(8) for name in "ab"]
    rows[5] = _row(2, "b", failures_by_kind={"timeout": 2})
    one_by_one, chunked = CompactTimeline(), CompactTimeline()
    for row in rows:
        one_by_one.append(row)
    chunked.extend(rows[:7])
    chunked.extend(rows[7:])
    assert list(one_by_one) == list(chunked) == rows
    assert chunked.values("b", "p90_ms") == one_by_one.values("b", "p90_ms")


def test_step_views_take_a_seconds_last_row_and_whole_rows_failures_as_before() -> None:
    result = load_smoke()
    extra = (
        _row(5, "login", requests=7, failures=7, failures_by_kind={"reset": 7}, p95_ms=1.5),
        _row(5, "login", requests=3, failures=1, p95_ms=2.5),  # the same second again: counts
    )
    rows = (*result.timeline, *extra)
    plain = result.model_copy(update={"timeline": rows})
    compact = result.model_copy(update={"timeline": CompactTimeline(rows)})
    assert step_views(compact) == step_views(plain)
    login = next(view for view in step_views(compact) if view.name == "login")
    assert login.p95_ms[5] == 2.5


def test_a_result_read_from_disk_rescores_to_the_same_bytes() -> None:
    """The same result.json read as columns and as one document (a tuple of rows)."""
    for result in (load_smoke(), scored(load_smoke()), open_model(load_smoke())):
        text = "".join(result_json_chunks(result))
        compact = read_result_lines(text.encode().splitlines(keepends=True))
        plain = Result.model_validate_json(text)
        assert isinstance(compact.timeline, CompactTimeline)
        assert isinstance(plain.timeline, tuple)
        again = "".join(result_json_chunks(rescore(compact)))
        assert again == "".join(result_json_chunks(rescore(plain)))


def test_a_result_holding_columns_dumps_as_one_holding_a_tuple_of_rows() -> None:
    result = scored(load_smoke())
    columns = result.model_copy(update={"timeline": CompactTimeline(result.timeline)})
    rows = result.model_copy(update={"timeline": tuple(result.timeline)})
    assert isinstance(columns.timeline, CompactTimeline) and len(columns.timeline) > 10
    assert columns.model_dump_json() == rows.model_dump_json()
    assert columns.model_dump(mode="json") == rows.model_dump(mode="json")
