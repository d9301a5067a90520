"""The live dashboard's server-side series (pure): the run's prometheus.jsonl records read so far,
the per-second rows they make (kept incrementally, as the result's `server_timeline` would hold
them), and one chart line per series for the snapshot, drawn by the report's own code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from peakday.monitoring.records import server_rows
from peakday.reporting.model import ReportView
from peakday.reporting.server_charts import server_chart
from peakday.results.model import TimelineRow

from .snapshot import ServerSeriesLine


class ServerRecords:
    """Samples and alert readings read so far; `rows()` is what assemble_result would make of
    them (a later reading of a second replaces an earlier one unless it has no value)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._rows: dict[tuple[int, str], TimelineRow] = {}
        self._sorted: tuple[TimelineRow, ...] = ()

    def add(self, records: Sequence[dict[str, Any]]) -> bool:
        """Appends what was read; True when anything was new."""
        self.records.extend(records)
        changed = False
        for row in server_rows(records):
            key = (row.t_s, row.name)
            if row.value is not None or key not in self._rows:
                self._rows[key] = row
                changed = True
        if changed:
            self._sorted = tuple(self._rows[key] for key in sorted(self._rows))
        return bool(records)

    def rows(self) -> tuple[TimelineRow, ...]:
        return self._sorted

    def until(self, t0: float, until_s: float) -> list[dict[str, Any]]:
        """The records as they stood `until_s` seconds into the load (replay): samples of the
        seconds that had ended, alert readings made by then (and the rules' `for:` record)."""
        kept = []
        for record in self.records:
            kind = record.get("kind")
            if kind == "sample" and float(record.get("t_s", 0)) + 1 > until_s:
                continue
            if kind == "alerts" and float(record.get("wall", 0.0)) > t0 + until_s:
                continue
            kept.append(record)
        return kept


def server_series_lines(view: ReportView) -> tuple[ServerSeriesLine, ...]:
    return tuple(
        ServerSeriesLine(
            name=series.name,
            kind=series.kind,
            last_value=series.last_value,
            measured=series.measured,
            verdict=series.verdict,
            chart_svg=str(server_chart(view, series)),
        )
        for series in view.server_series
    )
