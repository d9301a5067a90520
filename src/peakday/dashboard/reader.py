"""Tails a run folder's files (events, metrics, traffic, server-side series) into the
dashboard's LiveRecords.

Only whole new lines are read each call (results.eventlog.JsonlTail), so following a long run
costs what it appends, not what it holds. File names come from RunFolder.
"""

from __future__ import annotations

from peakday.errors import ResultError
from peakday.results.eventlog import JsonlTail
from peakday.results.events import RunEnded, events_from_records
from peakday.results.folder import RunFolder
from peakday.results.model import Result
from peakday.results.store import load_result

from .state import LiveRecords


class FolderReader:
    def __init__(self, folder: RunFolder) -> None:
        self.folder = folder
        self.records = LiveRecords()
        self._events = JsonlTail(folder.events)
        self._metrics = JsonlTail(folder.metrics)
        self._traffic = JsonlTail(folder.traffic)
        self._server = JsonlTail(folder.server_series)
        self._final: Result | None = None

    def poll(self) -> bool:
        """Reads what was appended since the last call; True when anything was new."""
        return self.records.add(
            events_from_records(self._events.read_new()),
            self._metrics.read_new(),
            self._traffic.read_new(),
            self._server.read_new(),
        )

    def final_result(self) -> Result | None:
        """The written result.json, once the run has ended and written it."""
        if self._final is None and self.records.first(RunEnded) is not None:
            try:
                self._final = load_result(self.folder.path)
            except ResultError:
                return None  # not written yet (the run writes it right after its end event)
        return self._final
