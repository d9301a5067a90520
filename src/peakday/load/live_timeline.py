"""The timeline so far, read incrementally from a metrics file that is still being written.

Each call reads only the lines appended since the last one (results.eventlog.JsonlTail) and
merges the partial records of a second exactly, so live checks see what scoring will see later.
Seconds the live checks no longer look at are forgotten (`forget_before`), so the orchestrator's
memory does not grow with run length; the metrics file keeps every second for scoring.
"""

from __future__ import annotations

from pathlib import Path

from peakday.load import StepSecond, merge_step_seconds
from peakday.load.timeline import row_from_step_second, step_seconds
from peakday.results.eventlog import JsonlTail
from peakday.results.model import TimelineRow


class LiveTimeline:
    def __init__(self, metrics_path: Path) -> None:
        self._tail = JsonlTail(metrics_path)
        self._merged: dict[tuple[int, str], StepSecond] = {}
        self._rows: dict[tuple[int, str], TimelineRow] = {}
        self._first_s = 0  # seconds before this are forgotten

    @property
    def first_s(self) -> int:
        """The first second still held; earlier ones were forgotten."""
        return self._first_s

    def forget_before(self, t_s: int) -> None:
        """Drop the seconds before `t_s`; a late part of one of them is ignored from now on."""
        if t_s <= self._first_s:
            return
        self._first_s = t_s
        for key in [key for key in self._merged if key[0] < t_s]:
            del self._merged[key]
            self._rows.pop(key, None)

    def rows(self) -> tuple[TimelineRow, ...]:
        """Every (second, step) row seen so far, in time order."""
        changed: set[tuple[int, str]] = set()
        for record in step_seconds(self._tail.read_new()):
            if record.t_s < self._first_s:
                continue
            previous = self._merged.get(record.key)
            self._merged[record.key] = (
                record if previous is None else merge_step_seconds([previous, record])
            )
            changed.add(record.key)
        for key in changed:
            self._rows[key] = row_from_step_second(self._merged[key])
        return tuple(self._rows[key] for key in sorted(self._rows))
