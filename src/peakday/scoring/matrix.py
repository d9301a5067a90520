"""The resiliency matrix: every fault x every step, pass / degraded / broken, with the numbers,
time to detect and time to recover; and each fault's blast radius (pure). See docs/scoring.md.

A step is *degraded* during a fault when it is measurably worse than its baseline (the thresholds
in scoring.matrix), and *broken* when an SLO judging it in the fault or whole-run phase fails over
the fault window, or most of its requests fail or stop.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from peakday.experiment.models import Experiment, MatrixRules, Slo
from peakday.experiment.objectives import Comparator, compare
from peakday.load.histograms import merge_histograms, percentile_ms
from peakday.results.model import (
    CellStatus,
    FaultImpact,
    MatrixCell,
    PhaseWindow,
    RecoveryState,
    ResiliencyMatrix,
    SloResult,
    StepFigures,
    TimelineRow,
)
from peakday.results.reference import ReferenceRun
from peakday.scoring.matrix_server import server_cell, server_second_states, server_slos
from peakday.scoring.phases import (
    rows_in,
    seconds_covered,
    seconds_of,
    step_floats,
    step_ints,
    step_names,
    windows_for,
)
from peakday.scoring.slo import judge_over
from peakday.topology import ALL_STEPS, JOURNEY_STEPS

# A step the baseline saw at this rate or more that sends nothing for a whole second is in
# breach for that second; below it, an empty second is normal and says nothing.
EXPECTED_RPS_FOR_EMPTY_BREACH = 5.0
SecondState = Literal["breach", "ok", "empty"]


@dataclass(frozen=True)
class Limit:
    """A per-second check: `metric comparator threshold` must hold, else the second is in breach."""

    metric: str
    comparator: Comparator
    threshold: float
    source: str


def step_figures(
    rows: Sequence[TimelineRow], step: str, windows: Sequence[PhaseWindow]
) -> StepFigures:
    selected = rows_in(rows, step, windows)
    requests = sum(r.requests for r in selected)
    span = seconds_covered(windows)
    merged = merge_histograms(r.histogram for r in selected if r.histogram)
    return StepFigures(
        requests=requests,
        rps=requests / span if span > 0 else None,
        success_rate=(requests - sum(r.failures for r in selected)) / requests
        if requests
        else None,
        p50_ms=percentile_ms(merged, 50.0),
        p95_ms=percentile_ms(merged, 95.0),
        p99_ms=percentile_ms(merged, 99.0),
    )


def _ratio(during: float | None, baseline: float | None) -> float | None:
    if during is None or baseline is None or baseline <= 0:
        return None
    return during / baseline


def default_limits(baseline: StepFigures, rules: MatrixRules) -> list[Limit]:
    limits = []
    if baseline.p95_ms is not None:
        limit = max(
            baseline.p95_ms * rules.degraded_latency_ratio,
            baseline.p95_ms + rules.degraded_latency_margin_ms,
        )
        limits.append(Limit("p95", "<=", limit, "p95 against baseline"))
    if baseline.success_rate is not None:
        floor = baseline.success_rate - rules.degraded_success_drop_pp / 100.0
        limits.append(Limit("success_rate", ">=", floor, "success rate against baseline"))
    return limits


def slo_limits(judged: Sequence[tuple[Slo, SloResult]]) -> list[Limit]:
    """The step's SLOs as per-second checks (rps and error budgets are judged per window only)."""
    limits = []
    for slo, result in judged:
        if slo.metric in ("rps", "error_budget") or result.threshold is None:
            continue
        comparator = slo.parsed_objective.comparator
        limits.append(Limit(slo.metric, comparator, result.threshold, f"SLO {slo.name!r}"))
    return limits


_ROW_FIELDS: Final = frozenset(field.name for field in dataclasses.fields(TimelineRow))


def second_states(
    rows: Sequence[TimelineRow],
    step: str,
    seconds: Iterable[int],
    limits: Sequence[Limit],
    expect_traffic: bool,
) -> dict[int, SecondState]:
    """Each second's state for `step` against `limits` (a second's last row counts). Read as
    the few columns the limits need, so a long run's timeline builds no row."""
    last = {t: k for k, t in enumerate(step_ints(rows, step, "t_s"))}
    requests = step_ints(rows, step, "requests")
    failures = step_ints(rows, step, "failures")
    checks = [
        (limit, step_floats(rows, step, f"{limit.metric}_ms"))
        if f"{limit.metric}_ms" in _ROW_FIELDS
        else (limit, None)  # no such series: never a breach
        for limit in limits
    ]
    states: dict[int, SecondState] = {}
    for t in seconds:
        k = last.get(t)
        states[t] = _state(k, requests, failures, checks, expect_traffic)
    return states


def _state(
    k: int | None,
    requests: Sequence[int],
    failures: Sequence[int],
    checks: Sequence[tuple[Limit, Sequence[float | None] | None]],
    expect_traffic: bool,
) -> SecondState:
    if k is None or requests[k] == 0:
        return "breach" if expect_traffic else "empty"
    for limit, values in checks:
        if limit.metric == "success_rate":
            value: float | None = (requests[k] - failures[k]) / requests[k]
        else:
            value = None if values is None else values[k]
        if value is not None and not compare(limit.comparator, value, limit.threshold):
            return "breach"
    return "ok"


def _cell_status(
    during: StepFigures,
    baseline: StepFigures,
    judged: Sequence[tuple[Slo, SloResult]],
    limits: Sequence[Limit],
    rules: MatrixRules,
) -> tuple[CellStatus, str]:
    if during.requests == 0 and baseline.requests == 0:
        return "no-data", "no requests in the baseline or during the fault"
    rps_ratio = _ratio(during.rps, baseline.rps)
    broken = [f"SLO {slo.name!r} fails ({result.detail or result.objective})".replace(" ()", "")
              for slo, result in judged if result.verdict == "fail"]  # fmt: skip
    if during.requests == 0:
        broken.append("no requests during the fault")
    if (
        during.success_rate is not None
        and during.success_rate * 100 < rules.broken_success_rate_pct
    ):
        broken.append(f"success rate below {rules.broken_success_rate_pct:g}%")
    if rps_ratio is not None and rps_ratio < rules.broken_throughput_ratio:
        broken.append(f"throughput below {rules.broken_throughput_ratio:g}x baseline")
    if broken:
        return "broken", "; ".join(broken)
    degraded = [
        f"SLO {slo.name!r} only meets its warning" for slo, r in judged if r.verdict == "warn"
    ]
    for limit in (x for x in limits if x.source.endswith("against baseline")):
        if limit.metric == "p95" and during.p95_ms is not None and during.p95_ms > limit.threshold:
            degraded.append(f"p95 above {limit.threshold:.1f} ms (baseline-based limit)")
        elif (
            limit.metric == "success_rate"
            and during.success_rate is not None
            and during.success_rate < limit.threshold
        ):
            degraded.append(
                f"success rate over {rules.degraded_success_drop_pp:g}pp below baseline"
            )
    if rps_ratio is not None and rps_ratio < rules.degraded_throughput_ratio:
        degraded.append(f"throughput below {rules.degraded_throughput_ratio:g}x baseline")
    if degraded:
        return "degraded", "; ".join(degraded)
    if baseline.requests == 0:
        return "pass", "no baseline to compare with; its SLOs hold"
    return "pass", "within its baseline and SLOs"


def _summary(status: CellStatus, during: StepFigures, p95_ratio: float | None) -> str:
    parts = []
    if during.p95_ms is not None:
        ratio = f" (x{p95_ratio:.1f})" if p95_ratio is not None else ""
        parts.append(f"p95 {during.p95_ms:.0f} ms{ratio}")
    if during.success_rate is not None:
        parts.append(f"{during.success_rate * 100:.1f}% ok")
    if during.rps is not None:
        parts.append(f"{during.rps:.1f} req/s")
    return f"{status}: {', '.join(parts) or 'no requests'}"


@dataclass(frozen=True)
class _Timing:
    time_to_detect_s: float | None
    time_to_recover_s: float | None
    recovery: RecoveryState


def _timing(
    states: dict[int, SecondState],
    window: PhaseWindow,
    others: Sequence[PhaseWindow],
    load_end_s: float,
    hold_s: float,
) -> _Timing:
    detect = next((t for t in seconds_of([window]) if states.get(t) == "breach"), None)
    time_to_detect = round(max(0.0, detect + 1 - window.start_s), 3) if detect is not None else None
    if any(o.start_s < window.end_s < o.end_s for o in others):
        return _Timing(time_to_detect, None, "interrupted")
    later = [o.start_s for o in others if o.start_s >= window.end_s]
    search_end = min([*later, load_end_s])
    hold_n = max(1, math.ceil(hold_s))
    streak_start: int | None = None
    ok_seconds = 0
    after = PhaseWindow(name="after", kind="recovery", start_s=window.end_s, end_s=search_end)
    for t in seconds_of([after]):
        state = states.get(t, "empty")
        if state == "breach":
            streak_start, ok_seconds = None, 0
        elif state == "ok":
            streak_start = t if streak_start is None else streak_start
            ok_seconds += 1
            if ok_seconds >= hold_n:
                return _Timing(
                    time_to_detect, max(0.0, streak_start + 1 - window.end_s), "recovered"
                )
    return _Timing(
        time_to_detect,
        None,
        "interrupted" if later and search_end < load_end_s else "not-recovered",
    )


def matrix_steps(experiment: Experiment, rows: Sequence[TimelineRow]) -> tuple[str, ...]:
    enabled = {j for j, weight in experiment.load.journeys.items() if weight > 0}
    produced = {step for journey in enabled for step in JOURNEY_STEPS.get(journey, ())}
    if experiment.on_user_system:
        produced = set()  # the user's locustfile names its own requests: only what was seen
    seen = step_names(rows)
    known = [s for s in ALL_STEPS if s in produced or s in seen]
    return (*known, *sorted(seen - set(known)))


def _cell(
    experiment: Experiment,
    step: str,
    fault: PhaseWindow,
    others: Sequence[PhaseWindow],
    rows: Sequence[TimelineRow],
    phases: Sequence[PhaseWindow],
    load_end_s: float,
    reference: ReferenceRun | None,
) -> MatrixCell:
    rules = experiment.scoring.matrix
    baseline_windows = windows_for("baseline", phases)
    baseline = step_figures(rows, step, baseline_windows)
    during = step_figures(rows, step, [fault])
    slos = [
        s
        for s in experiment.slos
        if s.request == step and s.phase in ("fault", "each-fault", "all", fault.name)
    ]
    judged = [
        (s, judge_over(s, rows, [fault], phases, reference))
        for s in slos
        if s.metric != "error_budget"
    ]
    limits = [*default_limits(baseline, rules), *slo_limits(judged)]
    status, detail = _cell_status(during, baseline, judged, limits, rules)
    p95_ratio = _ratio(during.p95_ms, baseline.p95_ms)
    cell = MatrixCell(
        fault=fault.name.removeprefix("fault:"),
        step=step,
        status=status,
        summary=_summary(status, during, p95_ratio),
        detail=detail,
        during=during,
        baseline=baseline,
        p95_ratio=p95_ratio,
        p99_ratio=_ratio(during.p99_ms, baseline.p99_ms),
        rps_ratio=_ratio(during.rps, baseline.rps),
        success_drop_pp=(
            (baseline.success_rate - during.success_rate) * 100
            if baseline.success_rate is not None and during.success_rate is not None
            else None
        ),
    )
    if status not in ("degraded", "broken"):
        return cell
    expect = (baseline.rps or 0.0) >= EXPECTED_RPS_FOR_EMPTY_BREACH
    whole = windows_for("all", phases)
    states = second_states(rows, step, seconds_of(whole), limits, expect)
    timing = _timing(states, fault, others, load_end_s, experiment.scoring.recovery_hold)
    return cell.model_copy(
        update={
            "time_to_detect_s": timing.time_to_detect_s,
            "time_to_recover_s": timing.time_to_recover_s,
            "recovery": timing.recovery,
        }
    )


def _server_cell(
    experiment: Experiment,
    slo: Slo,
    fault: PhaseWindow,
    others: Sequence[PhaseWindow],
    rows: Sequence[TimelineRow],
    phases: Sequence[PhaseWindow],
    load_end_s: float,
    reference: ReferenceRun | None,
) -> MatrixCell:
    """A server-side series' cell (scoring.matrix_server), timed like a step's."""
    cell, judged = server_cell(slo, fault, rows, phases, reference)
    if cell.status not in ("degraded", "broken"):
        return cell
    states = server_second_states(slo, judged, rows, seconds_of(windows_for("all", phases)))
    timing = _timing(states, fault, others, load_end_s, experiment.scoring.recovery_hold)
    return cell.model_copy(
        update={
            "time_to_detect_s": timing.time_to_detect_s,
            "time_to_recover_s": timing.time_to_recover_s,
            "recovery": timing.recovery,
        }
    )


def _impact(fault: PhaseWindow, cells: Sequence[MatrixCell]) -> FaultImpact:
    hit = [c for c in cells if c.status in ("degraded", "broken")]
    detects = [c.time_to_detect_s for c in hit if c.time_to_detect_s is not None]
    states = {c.recovery for c in hit}
    recovery: RecoveryState = (
        "not-needed" if not hit
        else "not-recovered" if "not-recovered" in states
        else "interrupted" if "interrupted" in states
        else "recovered"
    )  # fmt: skip
    recovers = [c.time_to_recover_s for c in hit if c.time_to_recover_s is not None]
    slowest = max(recovers) if recovery == "recovered" and recovers else None
    notes = [f"{c.step} {c.recovery}" for c in hit if c.recovery != "recovered"]
    return FaultImpact(
        fault=fault.name.removeprefix("fault:"),
        start_s=fault.start_s,
        end_s=fault.end_s,
        blast_radius=tuple(c.step for c in hit),
        time_to_detect_s=min(detects) if detects else None,
        time_to_recover_s=slowest,
        recovery=recovery,
        note="; ".join(notes),
    )


def resiliency_matrix(
    experiment: Experiment,
    rows: Sequence[TimelineRow],
    phases: Sequence[PhaseWindow],
    load_end_s: float,
    reference: ReferenceRun | None = None,
    server_rows: Sequence[TimelineRow] = (),
) -> tuple[ResiliencyMatrix | None, tuple[FaultImpact, ...]]:
    """Client-side steps, then one column per server-side SLO series (`prometheus:<SLO>`); the
    fault impacts (blast radius, detection, recovery) stay the load generator's view."""
    faults = [p for p in phases if p.kind == "fault"]
    if not faults:
        return None, ()
    steps = matrix_steps(experiment, rows)
    series = server_slos(experiment, server_rows)
    all_rows = (*rows, *server_rows) if server_rows else rows
    cells: list[MatrixCell] = []
    impacts: list[FaultImpact] = []
    for fault in faults:
        others = [f for f in faults if f is not fault]
        row = [
            _cell(experiment, s, fault, others, rows, phases, load_end_s, reference) for s in steps
        ]
        impacts.append(_impact(fault, row))
        cells += row
        cells += [
            _server_cell(experiment, s, fault, others, all_rows, phases, load_end_s, reference)
            for s in series
        ]
    matrix = ResiliencyMatrix(
        faults=tuple(f.name.removeprefix("fault:") for f in faults),
        steps=(*steps, *(s.request for s in series)),
        cells=tuple(cells),
    )
    return matrix, tuple(impacts)
