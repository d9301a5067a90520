"""Per-second, per-step timeline rows from the Locust plugin's metrics records (pure).

`timeline_from_records` merges a batch of records at once (the live view's new records);
`TimelineBuilder` takes a whole run's records one at a time and keeps only the last few minutes
of seconds open, so assembling a long run holds its rows as columns, not every record.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from peakday.load.failures import FAILURE_KINDS
from peakday.load.histograms import decode_histogram, summarize
from peakday.load.records import StepSecond, merge_by_key, merge_step_seconds
from peakday.results.columns import CompactTimeline
from peakday.results.model import TimelineRow

# Seconds a (second, step) stays open for more partial records after a later second arrived:
# far beyond the plugin's settle grace (1.5 s) and the reports of several workers; a straggler
# later than this is still merged exactly, at the end (see `TimelineBuilder.finish`).
MERGE_WINDOW_S: Final = 300
_ROWS_PER_BATCH: Final = 2_000


def step_second_of(record: Mapping[str, Any]) -> StepSecond | None:
    """A metrics record as a StepSecond; None for another kind or a malformed one."""
    if record.get("kind") != "metrics":
        return None
    try:
        return StepSecond.from_json_dict(record)
    except ValueError:
        return None


def step_seconds(records: Iterable[Mapping[str, Any]]) -> list[StepSecond]:
    """The metrics records among everything the plugin wrote; malformed ones are skipped."""
    return [found for found in map(step_second_of, records) if found is not None]


def row_from_step_second(merged: StepSecond) -> TimelineRow:
    summary = summarize(merged.histogram())
    uncorrected = (
        summarize(decode_histogram(merged.uncorrected_histogram_b64))
        if merged.uncorrected_histogram_b64
        else None
    )
    return TimelineRow(
        t_s=merged.t_s,
        name=merged.step,
        requests=merged.requests,
        failures=merged.failed,
        failures_by_kind={k: v for k, v in merged.failures.items() if v},
        p50_ms=summary.p50_ms if summary else None,
        p90_ms=summary.p90_ms if summary else None,
        p95_ms=summary.p95_ms if summary else None,
        p99_ms=summary.p99_ms if summary else None,
        p999_ms=summary.p999_ms if summary else None,
        max_ms=summary.max_ms if summary else None,
        out_of_range=merged.out_of_range,
        histogram=merged.histogram_b64,
        throughput_rps=float(merged.requests),  # one-second rows
        uncorrected_p50_ms=uncorrected.p50_ms if uncorrected else None,
        uncorrected_p90_ms=uncorrected.p90_ms if uncorrected else None,
        uncorrected_p95_ms=uncorrected.p95_ms if uncorrected else None,
        uncorrected_p99_ms=uncorrected.p99_ms if uncorrected else None,
        uncorrected_p999_ms=uncorrected.p999_ms if uncorrected else None,
        uncorrected_max_ms=uncorrected.max_ms if uncorrected else None,
        uncorrected_histogram=merged.uncorrected_histogram_b64,
    )


def timeline_from_records(records: Iterable[Mapping[str, Any]]) -> tuple[TimelineRow, ...]:
    """One row per (second, step), every partial record for that key merged exactly."""
    merged = merge_by_key(step_seconds(records))
    return tuple(row_from_step_second(record) for record in merged.values())


def step_second_of_row(row: TimelineRow) -> StepSecond:
    """The merged record a row was made from (`row_from_step_second` keeps all of it)."""
    return StepSecond(
        t_s=row.t_s,
        step=row.name,
        requests=row.requests,
        failures={kind: row.failures_by_kind.get(kind, 0) for kind in FAILURE_KINDS},
        histogram_b64=row.histogram,
        out_of_range=row.out_of_range,
        uncorrected_histogram_b64=row.uncorrected_histogram,
    )


class TimelineBuilder:
    """A run's rows from its metrics records fed in the order written: every partial record of
    a (second, step) merged exactly, rows in (second, step) order, as `timeline_from_records`
    gives them, held as columns.

    A second stays open until a record `window_s` seconds later arrives; then its rows are
    made and stored. A record for a second already stored (a worker's report held up for
    minutes) is kept aside and merged in at the end, into a copy of the stored rows, so the
    rows never depend on the window, only the cost does."""

    def __init__(self, window_s: int = MERGE_WINDOW_S) -> None:
        self._window_s = window_s
        self._open: dict[int, dict[str, list[StepSecond]]] = {}
        self._seconds: list[int] = []  # heap of the open seconds
        self._stored_through: int | None = None  # every second up to this one is stored
        self._late: list[StepSecond] = []
        self._batch: list[TimelineRow] = []
        self._rows = CompactTimeline()

    def add(self, record: StepSecond) -> None:
        t_s = record.t_s
        if self._stored_through is not None and t_s <= self._stored_through:
            self._late.append(record)
            return
        steps = self._open.get(t_s)
        if steps is None:
            steps = self._open[t_s] = {}
            heapq.heappush(self._seconds, t_s)
        parts = steps.get(record.step)
        if parts is None:
            steps[record.step] = [record]
        else:
            parts.append(record)
        if self._seconds[0] < t_s - self._window_s:
            self._store_through(t_s - self._window_s - 1)

    def _store_through(self, last: int) -> None:
        seconds, batch = self._seconds, self._batch
        while seconds and seconds[0] <= last:
            t_s = heapq.heappop(seconds)
            steps = self._open.pop(t_s)
            for step in sorted(steps):
                batch.append(row_from_step_second(merge_step_seconds(steps[step])))
            if len(batch) >= _ROWS_PER_BATCH:
                self._rows.extend(batch)
                batch.clear()
        self._stored_through = last

    def finish(self) -> CompactTimeline:
        """Every row, the open seconds stored and the late records merged in."""
        if self._seconds:
            self._store_through(max(self._seconds))
        self._rows.extend(self._batch)
        self._batch.clear()
        if not self._late:
            return self._rows
        return _merged_in(self._rows, merge_groups(self._late))

    @property
    def late_records(self) -> int:
        """Records that came after their second was stored (merged in by `finish`)."""
        return len(self._late)


def merge_groups(records: Iterable[StepSecond]) -> dict[tuple[int, str], list[StepSecond]]:
    """The records grouped by (second, step), in key order."""
    grouped: dict[tuple[int, str], list[StepSecond]] = {}
    for record in records:
        grouped.setdefault(record.key, []).append(record)
    return {key: grouped[key] for key in sorted(grouped)}


def _merged_in(
    rows: CompactTimeline, late: dict[tuple[int, str], list[StepSecond]]
) -> CompactTimeline:
    """`rows` (in key order) with the `late` records merged into theirs, or added as rows of
    their own, in key order: one pass over both."""
    merged = CompactTimeline()
    batch: list[TimelineRow] = []
    pending: Iterator[tuple[tuple[int, str], list[StepSecond]]] = iter(late.items())
    next_late = next(pending, None)
    for row in rows:
        key = (row.t_s, row.name)
        while next_late is not None and next_late[0] < key:
            batch.append(row_from_step_second(merge_step_seconds(next_late[1])))
            next_late = next(pending, None)
        if next_late is not None and next_late[0] == key:
            parts = [step_second_of_row(row), *next_late[1]]
            batch.append(row_from_step_second(merge_step_seconds(parts)))
            next_late = next(pending, None)
        else:
            batch.append(row)
        if len(batch) >= _ROWS_PER_BATCH:
            merged.extend(batch)
            batch.clear()
    while next_late is not None:
        batch.append(row_from_step_second(merge_step_seconds(next_late[1])))
        next_late = next(pending, None)
    merged.extend(batch)
    return merged
