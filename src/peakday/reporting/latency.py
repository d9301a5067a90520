"""Corrected and uncorrected latency side by side, for open-model runs (pure).

In the open model a journey that waits for a free user starts late; its requests are charged the
wait (corrected latency, from the intended start) and also timed from their actual send
(uncorrected, what Locust alone would report). The gap between the two is the coordinated
omission a closed-model tool would have hidden. Closed-model runs have one series only, so every
function here returns "nothing to show" for them and the reports stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

from peakday.experiment.units import format_measure
from peakday.results.model import Result
from peakday.scoring.phases import rows_in
from peakday.scoring.stats import latency_ms_from_rows

# What the two series mean, in the words every report uses.
CORRECTED = "from each request's intended start, incl. time queued in the load generator"
UNCORRECTED = "from the actual send, as Locust measures it (hides coordinated omission)"
MEANING = f"Corrected: {CORRECTED}. Uncorrected: {UNCORRECTED}."


@dataclass(frozen=True)
class P99Pair:
    corrected_ms: float | None
    uncorrected_ms: float | None


def format_pair(pair: P99Pair) -> str:
    """'2097.2 ms / 83.6 ms': corrected, then uncorrected; '—' when the step had no requests."""
    if pair.corrected_ms is None and pair.uncorrected_ms is None:
        return "—"
    return (
        f"{format_measure(pair.corrected_ms, 'ms')} / {format_measure(pair.uncorrected_ms, 'ms')}"
    )


@dataclass(frozen=True)
class PhaseP99:
    """One phase: the p99 of each step (in `CorrectionTable.steps` order), both ways."""

    phase: str
    cells: tuple[P99Pair, ...]


@dataclass(frozen=True)
class CorrectionTable:
    steps: tuple[str, ...]
    phases: tuple[PhaseP99, ...]


def shows_uncorrected(result: Result) -> bool:
    """The run used the open model and recorded the uncorrected series."""
    return result.experiment.load.model == "open" and any(
        row.uncorrected_histogram or row.uncorrected_p99_ms is not None for row in result.timeline
    )


def correction_table(result: Result) -> CorrectionTable | None:
    """p99 per phase and step from the merged histograms of both series; None without both.

    Warmup is left out: it is not judged, and its cold starts would only add noise.
    """
    if not shows_uncorrected(result):
        return None
    steps = tuple(sorted({row.name for row in result.timeline}))
    phases = []
    for phase in result.phases:
        if phase.kind == "warmup" or phase.end_s <= phase.start_s:
            continue
        cells = []
        for step in steps:
            rows = rows_in(result.timeline, step, (phase,))
            cells.append(
                P99Pair(
                    corrected_ms=latency_ms_from_rows(rows, "p99"),
                    uncorrected_ms=latency_ms_from_rows(rows, "p99", uncorrected=True),
                )
            )
        phases.append(PhaseP99(phase.name, tuple(cells)))
    return CorrectionTable(steps, tuple(phases))
