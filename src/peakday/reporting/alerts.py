"""The run's Prometheus alerts as report rows (pure): what fired, when, and how long after its
fault began — the time to detect by the team's own monitoring."""

from __future__ import annotations

from dataclasses import dataclass

from peakday.reporting.formatting import format_seconds
from peakday.results.model import Result

HEADERS = ("fault", "alert", "pending at", "firing at", "time to alert", "cleared at", "verdict")


@dataclass(frozen=True)
class AlertRow:
    fault: str
    alert: str
    pending_at: str
    firing_at: str
    time_to_alert: str
    cleared_at: str
    verdict: str  # pass, fail (never fired / false positive), inconclusive

    @property
    def cells(self) -> tuple[str, ...]:
        return (
            self.fault,
            self.alert,
            self.pending_at,
            self.firing_at,
            self.time_to_alert,
            self.cleared_at,
            self.verdict,
        )


def alert_rows(result: Result) -> list[AlertRow]:
    rows = []
    for timing in result.alerts:
        if not timing.expected:
            verdict = "fail: false positive (fired at baseline)"
        elif not timing.observed:
            verdict = f"inconclusive: {timing.detail}"
        elif timing.firing_at_s is None:
            verdict = "fail: never fired"
        else:
            verdict = "pass"
        rows.append(
            AlertRow(
                fault=timing.fault or "(baseline)",
                alert=timing.alert,
                pending_at=format_seconds(timing.pending_at_s),
                firing_at=format_seconds(timing.firing_at_s),
                time_to_alert=format_seconds(timing.time_to_alert_s),
                cleared_at=format_seconds(timing.cleared_at_s),
                verdict=verdict,
            )
        )
    return rows
