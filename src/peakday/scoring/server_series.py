"""Server-side series in the timeline (pure): the per-second values of a PromQL query, made into
one value over a phase. A phase without a single value is missing data, never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence

from peakday.results.model import PhaseWindow, TimelineRow
from peakday.scoring.phases import rows_in


def series_value(
    step: str, rows: Sequence[TimelineRow], windows: Sequence[PhaseWindow], aggregate: str
) -> tuple[float | None, str]:
    """The series' `aggregate` (mean, max, min, last) over `windows`, or None with why."""
    values = [r.value for r in sorted(rows_in(rows, step, windows), key=lambda r: r.t_s)]
    present = [v for v in values if v is not None]
    if not present:
        if not any(r.name == step and r.value is not None for r in rows):
            return None, (
                f"Prometheus gave no value for {step.removeprefix('prometheus:')!r} in the whole "
                "run (the query matched no series, or the server was not read)"
            )
        return None, "Prometheus gave no value for the query in this phase"
    if aggregate == "max":
        return max(present), ""
    if aggregate == "min":
        return min(present), ""
    if aggregate == "last":
        return present[-1], ""
    return sum(present) / len(present), ""


def is_server_series(name: str) -> bool:
    return name.startswith("prometheus:")
