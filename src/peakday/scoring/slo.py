"""SLO evaluation over a timeline, per phase, for every objective kind (pure).

Absolute objectives compare the value with a number; baseline objectives with the same metric over
this run's baseline phase; reference objectives with the same SLO in a reference run, allowing
for the noise of both runs. Missing data makes an SLO inconclusive, never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

from peakday.experiment.models import Slo
from peakday.experiment.objectives import (
    AnyObjective,
    RelativeObjective,
    compare,
    kind_of,
    upper_bound,
)
from peakday.experiment.units import LATENCY_METRICS, format_measure
from peakday.experiment.window_checks import windowed
from peakday.load.histograms import decode_histogram
from peakday.results.model import (
    Interval,
    PhaseWindow,
    SloResult,
    SloVerdict,
    TimelineRow,
    Verdict,
)
from peakday.results.reference import ReferenceRun
from peakday.scoring.budget import evaluate_budget
from peakday.scoring.names import never_ran_detail
from peakday.scoring.noise import interval_of
from peakday.scoring.phases import rows_in, rows_where, seconds_covered, seconds_of, windows_for
from peakday.scoring.server_series import series_value
from peakday.scoring.stats import latency_ms_from_rows, merged_latency_ms
from peakday.scoring.window_text import window_detail
from peakday.scoring.windowed import (
    Measure,
    WindowRule,
    group_value,
    judge_windows,
    window_value,
)


def measure(
    metric: str,
    step: str,
    rows: Sequence[TimelineRow],
    windows: Sequence[PhaseWindow],
    aggregate: str = "mean",
) -> tuple[float | None, str]:
    """The metric's value over the windows, or None with the reason there is no value."""
    if not windows:
        return None, "the phase did not happen in this run"
    if metric == "value":
        return series_value(step, rows, windows, aggregate)
    selected = rows_in(rows, step, windows)
    requests = sum(r.requests for r in selected)
    if metric == "rps":
        span = seconds_covered(windows)
        if span <= 0:
            return None, "the phase is empty"
        if requests == 0 and not any(r.name == step and r.requests for r in rows):
            return None, never_ran_detail(step, rows)
        return requests / span, ""
    if requests == 0:
        if not any(r.name == step and r.requests for r in rows):
            return None, never_ran_detail(step, rows)
        return None, f"no {step!r} requests started in this phase"
    if metric == "success_rate":
        failures = sum(r.failures for r in selected)
        return (requests - failures) / requests, ""
    if metric in LATENCY_METRICS:
        return latency_ms_from_rows(selected, metric), ""
    raise ValueError(f"unknown metric {metric!r}")


def unit_of(metric: str) -> str:
    if metric in ("success_rate", "error_budget"):
        return "ratio"
    if metric == "value":
        return ""
    if metric == "rps":
        return "req/s"
    return "ms"


@dataclass(frozen=True)
class _Judgement:
    holds: bool | None  # None: nothing to compare with
    threshold: float | None
    note: str = ""


@dataclass(frozen=True)
class _Bases:
    baseline: float | None
    reference: float | None
    interval: Interval | None
    reference_interval: Interval | None
    why_no_reference: str


def _judge(objective: AnyObjective, value: float, metric: str, bases: _Bases) -> _Judgement:
    if not isinstance(objective, RelativeObjective):
        return _Judgement(objective.holds(value), objective.threshold)
    if objective.against == "baseline":
        base, missing = bases.baseline, "the baseline phase has no value to compare with"
    else:
        base, missing = bases.reference, bases.why_no_reference
    if base is None:
        return _Judgement(None, None, missing)
    threshold = objective.threshold(base)
    unit = unit_of(metric)
    described = (
        f"limit {format_measure(threshold, unit)} from {objective.against} "
        f"{format_measure(base, unit)}"
    )
    if objective.holds(value, base):
        return _Judgement(True, threshold)
    if objective.against == "reference" and bases.interval and bases.reference_interval:
        upper = upper_bound(objective.comparator)
        ref_edge = bases.reference_interval.high if upper else bases.reference_interval.low
        value_edge = bases.interval.low if upper else bases.interval.high
        if compare(objective.comparator, value_edge, objective.threshold(ref_edge)):
            return _Judgement(True, threshold, f"{described}; the change is within the noise")
    return _Judgement(False, threshold, described)


def _bases(
    slo: Slo,
    rows: Sequence[TimelineRow],
    windows: Sequence[PhaseWindow],
    phases: Sequence[PhaseWindow],
    reference: ReferenceRun | None,
) -> _Bases:
    objectives = [o for o in (slo.parsed_objective, slo.parsed_warning) if o is not None]
    kinds = {kind_of(o) for o in objectives}
    baseline = None
    if "baseline" in kinds:
        baseline, _ = measure(
            slo.metric, slo.request, rows, windows_for("baseline", phases), slo.aggregate
        )
    if "reference" not in kinds:
        return _Bases(baseline, None, None, None, "")
    if reference is None:
        return _Bases(baseline, None, None, None, "no reference run to compare with")
    ref_windows = windows_for(slo.phase, reference.phases)
    ref_value, why = measure(
        slo.metric, slo.request, reference.timeline, ref_windows, slo.aggregate
    )
    return _Bases(
        baseline,
        ref_value,
        interval_of(slo.metric, slo.request, rows, windows),
        interval_of(slo.metric, slo.request, reference.timeline, ref_windows),
        f"the reference run has no value: {why}" if ref_value is None else "",
    )


def _result(slo: Slo, value: float | None, verdict: SloVerdict, detail: str) -> SloResult:
    objective = slo.parsed_objective
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
        kind="error_budget" if slo.metric == "error_budget" else kind_of(objective),
        warning=slo.warning,
        weight=slo.weight,
        key=slo.key,
    )


def judge_over(
    slo: Slo,
    rows: Sequence[TimelineRow],
    windows: Sequence[PhaseWindow],
    phases: Sequence[PhaseWindow],
    reference: ReferenceRun | None = None,
) -> SloResult:
    """The SLO judged over `windows` (its own phase, or one fault window for the matrix)."""
    value, why_missing = measure(slo.metric, slo.request, rows, windows, slo.aggregate)
    bases = _bases(slo, rows, windows, phases, reference)
    result = _result(slo, value, "inconclusive", why_missing)
    extra = {
        "baseline_value": bases.baseline,
        "reference_value": bases.reference,
        "interval": bases.interval,
        "reference_interval": bases.reference_interval,
    }
    if value is None:
        return result.model_copy(update=extra)
    main = _judge(slo.parsed_objective, value, slo.metric, bases)
    warning = slo.parsed_warning
    side = _judge(warning, value, slo.metric, bases) if warning is not None else None
    extra |= {
        "threshold": main.threshold,
        "warning_threshold": side.threshold if side is not None else None,
    }
    verdict: SloVerdict
    if main.holds is None:
        verdict, detail = "inconclusive", main.note
    elif main.holds:
        verdict, detail = "pass", main.note
    elif side is not None and side.holds:
        verdict, detail = "warn", f"missed {slo.objective!r} but met warning {slo.warning!r}"
    else:
        verdict, detail = "fail", main.note
    return result.model_copy(update={**extra, "verdict": verdict, "detail": detail})


def _budget_result(
    slo: Slo, rows: Sequence[TimelineRow], phases: Sequence[PhaseWindow]
) -> SloResult:
    value, budget, why_missing = evaluate_budget(slo, rows, phases)
    if value is None or budget is None:
        return _result(slo, None, "inconclusive", why_missing).model_copy(
            update={"error_budget": budget}
        )
    objective, warning = slo.parsed_objective, slo.parsed_warning
    if not isinstance(objective, RelativeObjective) and objective.holds(value):
        verdict: SloVerdict = "pass"
    elif (
        warning is not None and not isinstance(warning, RelativeObjective) and warning.holds(value)
    ):
        verdict = "warn"
    else:
        verdict = "fail"
    fired = [a for a in budget.windows[0].alerts if a.fired_at_s is not None]
    notes = []
    for alert in fired:
        notes.append(
            f"burn >= {alert.factor:g}x over {alert.long_s:g}s and {alert.short_s:g}s "
            f"from {alert.fired_at_s:g}s ({alert.severity})"
        )
        if alert.severity == "fail":
            verdict = "fail"
        elif verdict == "pass":
            verdict = "warn"
    return _result(slo, value, verdict, "; ".join(notes)).model_copy(
        update={
            "error_budget": budget,
            "threshold": _absolute_threshold(objective),
            "warning_threshold": _absolute_threshold(warning),
        }
    )


def _absolute_threshold(objective: AnyObjective | None) -> float | None:
    if objective is None or isinstance(objective, RelativeObjective):
        return None
    return objective.threshold


def evaluate_slo(
    slo: Slo,
    rows: Sequence[TimelineRow],
    phases: Sequence[PhaseWindow],
    reference: ReferenceRun | None = None,
) -> SloResult:
    if slo.metric == "error_budget":
        return _budget_result(slo, rows, phases)
    if windowed(slo):
        return _windowed_result(slo, rows, phases, reference)
    return judge_over(slo, rows, windows_for(slo.phase, phases), phases, reference)


def _window_measure(slo: Slo, rows: Sequence[TimelineRow]) -> Measure:
    """`measure` for many overlapping windows: rows looked up by second, each second's
    histogram decoded once, so a window costs its length, not the run's."""
    by_second = {r.t_s: r for r in rows_where(rows, (slo.request,))}
    ran = any(r.requests for r in by_second.values())  # else: inconclusive, never 0 req/s
    decoded: dict[int, HdrHistogram] = {}

    def histogram(row: TimelineRow) -> HdrHistogram:
        if row.t_s not in decoded:
            decoded[row.t_s] = decode_histogram(row.histogram)
        return decoded[row.t_s]

    def measured(windows: Sequence[PhaseWindow]) -> tuple[float | None, str]:
        selected = [by_second[t] for t in seconds_of(windows) if t in by_second]
        requests = sum(r.requests for r in selected)
        if slo.metric == "rps" and ran:
            return requests / seconds_covered(windows), ""
        if requests == 0 or slo.metric == "rps":
            return measure(slo.metric, slo.request, rows, windows, slo.aggregate)  # or why none
        if slo.metric == "success_rate":
            return (requests - sum(r.failures for r in selected)) / requests, ""
        histograms = (histogram(r) for r in selected if r.histogram)
        return merged_latency_ms(histograms, slo.metric), ""

    return measured


def _windowed_result(
    slo: Slo,
    rows: Sequence[TimelineRow],
    phases: Sequence[PhaseWindow],
    reference: ReferenceRun | None,
) -> SloResult:
    """The SLO judged in every fault window and/or rolling window (scoring/windowed.py)."""
    bases = _bases(slo, rows, windows_for(slo.phase, phases), phases, reference)
    objective, warning = slo.parsed_objective, slo.parsed_warning

    def holds(value: float) -> bool | None:
        return _judge(objective, value, slo.metric, bases).holds

    def warned(value: float) -> bool | None:
        assert warning is not None
        return _judge(warning, value, slo.metric, bases).holds

    measured = _window_measure(slo, rows)
    rule = WindowRule(slo.phase, slo.window, slo.parsed_within)
    upper = upper_bound(objective.comparator)
    judged = judge_windows(
        rule, phases, measured, holds, warned if warning is not None else None, upper
    )
    worst = judged.worst
    value = worst.value if worst is not None else None
    rolling = slo.window is not None
    result = _result(slo, value, judged.verdict, "").model_copy(
        update={
            "baseline_value": bases.baseline,
            "window_s": slo.window,
            "within": rule.within,
            "met_share": judged.met_share,
            "judged_windows": judged.judged,
            "worst": window_value(worst) if worst is not None else None,
            "windows": (
                tuple(group_value(g, rolling) for g in judged.groups)
                if slo.phase == "each-fault"
                else ()
            ),
        }
    )
    if value is not None:
        main = _judge(objective, value, slo.metric, bases)
        side = _judge(warning, value, slo.metric, bases) if warning is not None else None
        result = result.model_copy(
            update={
                "threshold": main.threshold,
                "warning_threshold": side.threshold if side is not None else None,
            }
        )
    return result.model_copy(update={"detail": window_detail(result, judged)})


def overall_verdict(results: Sequence[SloResult]) -> Verdict:
    """Without weights: any failure fails; missing data is inconclusive, never a pass.

    The run's verdict comes from scoring.score.verdict_of, which adds weights and key SLOs.
    """
    if any(r.verdict == "fail" for r in results):
        return "fail"
    if any(r.verdict == "inconclusive" for r in results):
        return "inconclusive"
    if any(r.verdict == "warn" for r in results):
        return "warn"
    return "pass"
