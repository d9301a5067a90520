"""The server-side series a report shows (pure): for each `source: prometheus` SLO or stop
condition, its PromQL query, its value each second, the objective drawn over the phase it
judges, and the lowest, highest and last value in each phase.

The values are the result's `server_timeline` rows (`prometheus:<name>`), the same rows scoring
judged; nothing here re-judges them.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from typing import Literal

from peakday.experiment.models import Slo, StopCondition
from peakday.experiment.units import (
    SpecValueError,
    format_duration_s,
    format_measure,
    parse_objective,
)
from peakday.results.model import PhaseWindow, Result, SloResult, TimelineRow
from peakday.scoring.phases import windows_for

SeriesKind = Literal["SLO", "stop condition"]


@dataclass(frozen=True)
class ObjectiveLine:
    """An objective (or a stop condition's breach level) drawn over the spans it applies to."""

    value: float
    label: str
    spans: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class PhaseFigures:
    """The series in one phase window; None where Prometheus gave no value in it."""

    phase: str
    low: float | None
    high: float | None
    last: float | None

    @property
    def text(self) -> str:
        """'0.01 / 0.3 / 0.25' (min / max / last), '—' where there was no value."""
        return " / ".join(format_value(v) for v in (self.low, self.high, self.last))


@dataclass(frozen=True)
class ServerSeriesView:
    series: str  # the timeline step, `prometheus:<name>`
    name: str  # the SLO's or stop condition's name
    kind: SeriesKind
    query: str  # whitespace folded to single spaces (YAML `>` blocks keep a newline)
    judged: str  # how the SLO reads the series: "mean over fault"; "" for a stop condition
    measured: str  # the SLO's value as scored ("" for a stop condition)
    verdict: str  # the SLO's verdict ("" for a stop condition)
    seconds: tuple[int, ...]
    values: tuple[float | None, ...]
    lines: tuple[ObjectiveLine, ...]
    phases: tuple[PhaseFigures, ...]

    @property
    def last_value(self) -> float | None:
        return next((v for v in reversed(self.values) if v is not None), None)


def format_value(value: float | None) -> str:
    """A query's value as a plain number, to four significant figures ('—' for none)."""
    return "—" if value is None else f"{value:.4g}"


def fold(query: str) -> str:
    return " ".join(query.split())


def _threshold(slo: SloResult) -> float | None:
    """As scored when the result says, else the absolute objective's number (a relative one
    has no fixed level before it is scored)."""
    if slo.threshold is not None:
        return slo.threshold
    try:
        return parse_objective(slo.objective, slo.metric).threshold
    except (SpecValueError, ValueError):
        return None


def _slo_lines(slo: SloResult, phases: tuple[PhaseWindow, ...]) -> list[ObjectiveLine]:
    threshold = _threshold(slo)
    if threshold is None:
        return []
    spans = tuple((w.start_s, w.end_s) for w in windows_for(slo.phase, phases))
    label = f"{slo.name} {slo.objective}"
    if slo.worst is not None:
        label += f" (worst {slo.worst.start_s:.0f}-{slo.worst.end_s:.0f} s)"
    lines = [ObjectiveLine(threshold, label, spans)]
    if slo.warning is not None and slo.warning_threshold is not None:
        lines.append(ObjectiveLine(slo.warning_threshold, f"{slo.name} warn {slo.warning}", spans))
    return lines


def _stop_line(condition: StopCondition, warmup_s: float, end_s: float) -> ObjectiveLine:
    # Stop conditions watch every second after the warm-up (scoring.live).
    label = (
        f"stop {condition.name} {condition.when.strip()} "
        f"for {format_duration_s(condition.sustained)}"
    )
    return ObjectiveLine(
        condition.parsed_when.threshold, label, ((warmup_s, max(warmup_s, end_s)),)
    )


def _figures(rows: list[TimelineRow], phases: tuple[PhaseWindow, ...]) -> tuple[PhaseFigures, ...]:
    """Per phase window after the warm-up; `rows` sorted by second. A second belongs to the
    window holding its middle (scoring.phases.in_windows), so window [start, end) holds the
    seconds from ceil(start - 0.5) to before ceil(end - 0.5): found by bisection, as the
    dashboard redraws these every second of a long run."""
    seconds = [r.t_s for r in rows]
    figures = []
    for window in phases:
        if window.kind in ("warmup", "all"):
            continue
        first = bisect_left(seconds, math.ceil(window.start_s - 0.5))
        end = bisect_left(seconds, math.ceil(window.end_s - 0.5))
        present = [r.value for r in rows[first:end] if r.value is not None]
        figures.append(
            PhaseFigures(
                phase=window.name,
                low=min(present) if present else None,
                high=max(present) if present else None,
                last=present[-1] if present else None,
            )
        )
    return tuple(figures)


def server_series_views(result: Result) -> tuple[ServerSeriesView, ...]:
    """One view per server-side series, in the experiment's order (SLOs, then stop conditions);
    an SLO and a stop condition of the same name share their series and its chart."""
    experiment = result.experiment
    entries: list[Slo | StopCondition] = [*experiment.slos, *experiment.stop_conditions]
    server = [e for e in entries if e.source == "prometheus" and e.query]
    if not server:
        return ()
    by_series: dict[str, list[TimelineRow]] = {}
    for row in result.server_timeline:
        by_series.setdefault(row.name, []).append(row)
    end_s = (
        result.run.load_ended_s if result.run.load_ended_s is not None else experiment.load.duration
    )
    last_second = max(
        [int(end_s + 0.999) - 1, *(r.t_s for r in result.server_timeline)], default=-1
    )
    seconds = tuple(range(last_second + 1))
    scored = {s.name: s for s in result.slos}
    views: list[ServerSeriesView] = []
    done: set[str] = set()
    for entry in server:
        if entry.request in done:
            continue
        done.add(entry.request)
        rows = sorted(by_series.get(entry.request, []), key=lambda r: r.t_s)
        at = {r.t_s: r.value for r in rows}
        lines: list[ObjectiveLine] = []
        kinds: list[SeriesKind] = []
        measured = verdict = judged = ""
        for same in (e for e in server if e.request == entry.request):
            if isinstance(same, StopCondition):
                kinds.append("stop condition")
                lines.append(_stop_line(same, experiment.load.warmup, end_s))
                continue
            kinds.append("SLO")
            judged = f"{same.aggregate} over {same.phase}"
            slo = scored.get(same.name)
            if slo is not None:
                lines += _slo_lines(slo, result.phases)
                measured, verdict = format_measure(slo.value, slo.unit), slo.verdict
        views.append(
            ServerSeriesView(
                series=entry.request,
                name=entry.name,
                kind=kinds[0],
                query=fold(entry.query or ""),
                judged=judged,
                measured=measured,
                verdict=verdict,
                seconds=seconds,
                values=tuple(at.get(t) for t in seconds),
                lines=tuple(lines),
                phases=_figures(rows, result.phases),
            )
        )
    return tuple(views)
