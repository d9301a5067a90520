"""The scoring parts of a result (score, matrix, detection/recovery, stops) as report rows; pure.

Results written before scoring had them (schema 1) lack these fields; each reader returns
"nothing to show" and the renderers leave the matching section out.
"""

from __future__ import annotations

from dataclasses import dataclass

from peakday.experiment.units import format_measure
from peakday.reporting.formatting import format_seconds
from peakday.results.model import Result, SloResult

# Matrix cell statuses -> the verdict colour they are shown in.
CELL_CLASS = {"pass": "pass", "degraded": "warn", "broken": "fail", "no-data": "inconclusive"}


@dataclass(frozen=True)
class MatrixCell:
    text: str
    status: str  # pass / degraded / broken / no-data
    css: str  # pass / warn / fail / inconclusive
    title: str = ""


@dataclass(frozen=True)
class MatrixView:
    """Rows are faults, columns steps."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[MatrixCell, ...]], ...]


@dataclass(frozen=True)
class RecoveryRow:
    fault: str
    window: str
    blast_radius: str
    time_to_detect_s: float | None
    time_to_recover_s: float | None
    recovery: str
    note: str = ""


@dataclass(frozen=True)
class ScoreView:
    total: float | None
    lowest: float | None
    highest: float | None
    parts: tuple[tuple[str, float | None], ...]  # baseline, fault, recovery, whole run
    pass_score: float
    warn_score: float
    reason: str
    key_failures: tuple[str, ...]


@dataclass(frozen=True)
class BudgetRow:
    slo: str
    window: str
    consumed_pct: float
    burn_rate: float | None
    alerts: str


def score(result: Result) -> float | None:
    return result.score.total if result.score is not None else None


def score_view(result: Result) -> ScoreView | None:
    card = result.score
    if card is None:
        return None
    return ScoreView(
        total=card.total,
        lowest=card.lowest,
        highest=card.highest,
        parts=(
            ("baseline", card.baseline),
            ("under fault", card.fault),
            ("recovery", card.recovery),
            ("whole run", card.whole_run),
        ),
        pass_score=card.pass_score,
        warn_score=card.warn_score,
        reason=card.reason,
        key_failures=card.key_failures,
    )


def slo_weights(result: Result) -> dict[str, str]:
    """Weights worth showing: only when some SLO is weighted differently or marked key."""
    slos = result.slos
    if all(s.weight == 1.0 for s in slos) and not any(s.key for s in slos):
        return {}
    return {s.name: f"{s.weight:g}" + (" key" if s.key else "") for s in slos}


def slo_context(slo: SloResult) -> str:
    """The small print under a measured value: interval, baseline, reference, warning limit."""
    bits = []
    if slo.interval is not None:
        low = format_measure(slo.interval.low, slo.unit)
        high = format_measure(slo.interval.high, slo.unit)
        bits.append(f"95% {low} to {high}")
    if slo.kind != "absolute" and slo.threshold is not None:
        bits.append(f"limit {format_measure(slo.threshold, slo.unit)}")
    if slo.baseline_value is not None:
        bits.append(f"baseline {format_measure(slo.baseline_value, slo.unit)}")
    if slo.reference_value is not None:
        bits.append(f"reference {format_measure(slo.reference_value, slo.unit)}")
    if slo.warning:
        bits.append(f"warn if not {slo.warning}")
    return "; ".join(bits)


def matrix(result: Result) -> MatrixView | None:
    grid = result.matrix
    if grid is None or not grid.cells:
        return None
    rows = []
    for fault in grid.faults:
        cells = []
        for step in grid.steps:
            cell = grid.cell(fault, step)
            if cell is None:
                cells.append(MatrixCell("—", "no-data", "inconclusive"))
                continue
            timing = ""
            if cell.time_to_detect_s is not None or cell.time_to_recover_s is not None:
                timing = (
                    f" Detected after {format_seconds(cell.time_to_detect_s)}; "
                    f"recovery: {cell.recovery}"
                    + (
                        f" after {format_seconds(cell.time_to_recover_s)}."
                        if cell.time_to_recover_s is not None
                        else "."
                    )
                )
            summary = cell.summary or cell.status
            cells.append(
                MatrixCell(
                    text=summary
                    if summary.startswith(cell.status)
                    else f"{cell.status}: {summary}",
                    status=cell.status,
                    css=CELL_CLASS.get(cell.status, "inconclusive"),
                    title=(
                        cell.detail.rstrip(".") + "." + timing if cell.detail else timing
                    ).strip(),
                )
            )
        rows.append((fault, tuple(cells)))
    return MatrixView(columns=grid.steps, rows=tuple(rows))


def recovery_rows(result: Result) -> tuple[RecoveryRow, ...]:
    return tuple(
        RecoveryRow(
            fault=impact.fault,
            window=f"{impact.start_s:.1f}-{impact.end_s:.1f} s",
            blast_radius=", ".join(impact.blast_radius) or "none",
            time_to_detect_s=impact.time_to_detect_s,
            time_to_recover_s=impact.time_to_recover_s,
            recovery=impact.recovery,
            note=impact.note,
        )
        for impact in result.fault_impacts
    )


def budget_rows(result: Result) -> tuple[BudgetRow, ...]:
    rows = []
    for slo in result.slos:
        if slo.error_budget is None:
            continue
        for window in slo.error_budget.windows:
            fired = [
                f"{a.factor:g}x over {a.long_s:g}s/{a.short_s:g}s at {a.fired_at_s:.0f} s"
                for a in window.alerts
                if a.fired_at_s is not None
            ]
            rows.append(
                BudgetRow(
                    slo=slo.name,
                    window=f"{window.phase} ({window.start_s:.1f}-{window.end_s:.1f} s)",
                    consumed_pct=window.consumed * 100.0,
                    burn_rate=window.burn_rate,
                    alerts="; ".join(fired),
                )
            )
    return tuple(rows)


def stop_notes(result: Result) -> tuple[str, ...]:
    notes = []
    check = result.baseline_check
    if check is not None and not check.met:
        then = "the faults went ahead anyway" if check.continued else "no fault was injected"
        detail = f" ({check.detail})" if check.detail else ""
        notes.append(f"The baseline was not met at {check.at_s:.1f} s{detail}; {then}.")
    for stop in result.stops:
        action = "faults rolled back" if stop.action == "end_faults" else "run ended"
        if stop.manual_by is not None:  # a stop button on the live dashboard
            notes.append(f"Stopped by hand at {stop.fired_at_s:.1f} s: {stop.condition}; {action}.")
            continue
        notes.append(
            f"Stop condition {stop.name!r} ({stop.condition}) fired at {stop.fired_at_s:.1f} s "
            f"after a breach from {stop.breach_from_s:.0f} s: {action}."
        )
    for fault in result.faults:
        if fault.skipped:
            notes.append(f"Fault {fault.label!r} was not applied: {fault.skipped}.")
    for reach in result.fault_reach:
        if reach.reach in ("no", "not-measured"):
            notes.append(f"No verdict: {reach.detail}")
    if result.traffic is not None and not result.traffic.measured and not result.fault_reach:
        notes.append(f"Traffic through the proxies was not measured: {result.traffic.detail}")
    health = result.load_health
    if health is not None and not health.trusted:
        reasons = " ".join(health.reasons) or "the load generator was saturated."
        notes.append(f"The load itself cannot be trusted: {reasons}")
    if result.reference is not None:
        ref = result.reference
        notes.append(
            f"Relative objectives were judged against run {ref.run_id} of {ref.experiment!r} "
            f"({ref.verdict}) at {ref.path}."
        )
    return tuple(notes)


@dataclass(frozen=True)
class LoadHealthView:
    summary: str
    trusted: bool
    reasons: tuple[str, ...]
    # (label, points) per generator process; load time in seconds.
    cpu: tuple[tuple[str, tuple[tuple[float, float | None], ...]], ...]
    lag: tuple[tuple[str, tuple[tuple[float, float | None], ...]], ...]
    # open model: (journey, planned points, started points)
    arrivals: tuple[
        tuple[str, tuple[tuple[float, float | None], ...], tuple[tuple[float, float | None], ...]],
        ...,
    ]


def load_health(result: Result) -> LoadHealthView | None:
    health = result.load_health
    if health is None:
        return None
    processes = sorted({g.process for g in health.generator})
    cpu = tuple(
        (p, tuple((g.t_s, g.cpu_percent) for g in health.generator if g.process == p))
        for p in processes
    )
    lag = tuple(
        (p, tuple((g.t_s, g.lag_ms) for g in health.generator if g.process == p)) for p in processes
    )
    journeys = sorted({a.journey for a in health.arrivals})
    arrivals = tuple(
        (
            j,
            tuple((a.t_s + 0.5, float(a.planned)) for a in health.arrivals if a.journey == j),
            tuple((a.t_s + 0.5, float(a.started)) for a in health.arrivals if a.journey == j),
        )
        for j in journeys
    )
    summary = f"{health.model} model"
    if health.model == "open":
        summary += (
            f": {health.planned_journeys:,} journeys planned, {health.late_starts:,} started late,"
            f" {health.not_started:,} never started, longest start delay "
            f"{health.max_start_delay_ms:.0f} ms"
        )
    peak_cpu = max((g.cpu_percent for g in health.generator), default=None)
    peak_lag = max((g.lag_ms for g in health.generator), default=None)
    if peak_cpu is not None and peak_lag is not None:
        summary += f"; generator peak CPU {peak_cpu:.0f}%, event-loop lag {peak_lag:.0f} ms"
    return LoadHealthView(summary, health.trusted, health.reasons, cpu, lag, arrivals)


def outcome(result: Result) -> str:
    """The run's one-word outcome when it says more than the verdict (e.g. baseline-not-met)."""
    return "" if result.outcome == result.verdict else result.outcome
