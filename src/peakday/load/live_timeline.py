"""The timeline so far, read incrementally from a metrics file that is still being written.

Each call reads only the lines appended since the last one (results.eventlog.JsonlTail) and
merges the partial records of a second exactly, so live checks see what scoring will see later.
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

    def rows(self) -> tuple[TimelineRow, ...]:
        """Every (second, step) row seen so far, in time order."""
        changed: set[tuple[int, str]] = set()
        for record in step_seconds(self._tail.read_new()):
            previous = self._merged.get(record.key)
            self._merged[record.key] = (
                record if previous is None else merge_step_seconds([previous, record])
            )
            changed.add(record.key)
        for key in changed:
            self._rows[key] = row_from_step_second(self._merged[key])
        return tuple(self._rows[key] for key in sorted(self._rows))
