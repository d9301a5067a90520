"""SLO evaluation over a timeline, per phase (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from peakday.results.model import PhaseWindow, SloResult, TimelineRow, Verdict
from peakday.scoring.phases import rows_in, seconds_covered, windows_for
from peakday.scoring.stats import latency_ms_from_rows
from peakday.spec.models import Slo
from peakday.spec.units import LATENCY_METRICS


def measure(
    metric: str, step: str, rows: Sequence[TimelineRow], windows: Sequence[PhaseWindow]
) -> tuple[float | None, str]:
    """The metric's value over the windows, or None with the reason there is no value."""
    selected = rows_in(rows, step, windows)
    requests = sum(r.requests for r in selected)
    if not windows:
        return None, "the phase did not happen in this run"
    if metric == "rps":
        span = seconds_covered(windows)
        return (requests / span if span > 0 else None), "" if span > 0 else "the phase is empty"
    if requests == 0:
        return None, f"no {step!r} requests started in this phase"
    if metric == "success_rate":
        failures = sum(r.failures for r in selected)
        return (requests - failures) / requests, ""
    if metric in LATENCY_METRICS:
        return latency_ms_from_rows(selected, metric), ""
    raise ValueError(f"unknown metric {metric!r}")


def unit_of(metric: str) -> str:
    if metric == "success_rate":
        return "ratio"
    if metric == "rps":
        return "req/s"
    return "ms"


def evaluate_slo(
    slo: Slo, rows: Sequence[TimelineRow], phases: Sequence[PhaseWindow]
) -> SloResult:
    windows = windows_for(slo.phase, phases)
    value, why_missing = measure(slo.metric, slo.request, rows, windows)
    if value is None:
        verdict: Verdict = "inconclusive"
        detail = why_missing
    else:
        verdict = "pass" if slo.parsed_objective.holds(value) else "fail"
        detail = ""
    return SloResult(
        name=slo.name,
        request=slo.request,
        metric=slo.metric,
        phase=slo.phase,
        objective=slo.objective,
        value=value,
        unit=unit_of(slo.metric),
        verdict=verdict,
        detail=detail,
    )


def overall_verdict(results: Sequence[SloResult]) -> Verdict:
    """Any failure fails the run; otherwise missing data makes it inconclusive, never a pass."""
    if any(r.verdict == "fail" for r in results):
        return "fail"
    if any(r.verdict == "inconclusive" for r in results):
        return "inconclusive"
    return "pass"
