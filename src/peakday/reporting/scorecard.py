"""`peakday score`'s text: the score, SLO verdicts, resiliency matrix and fault impacts; pure."""

from __future__ import annotations

from collections.abc import Sequence

from peakday.experiment.units import format_measure
from peakday.reporting.formatting import format_table
from peakday.results.model import MatrixCell, Result, SloResult


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _slo_line(slo: SloResult) -> str:
    value = "no value" if slo.value is None else format_measure(slo.value, slo.unit)
    flags = " key" if slo.key else ""
    weight = f" w{slo.weight:g}" if slo.weight != 1 else ""
    detail = f"  ({slo.detail})" if slo.detail else ""
    return (
        f"  {slo.verdict:<12} {slo.name} [{slo.phase}{weight}{flags}]: {slo.request} "
        f"{slo.metric} {slo.objective} -> {value}{detail}"
    )


def _matrix_lines(
    cells: Sequence[MatrixCell], faults: Sequence[str], steps: Sequence[str]
) -> list[str]:
    rows: list[tuple[str, ...]] = []
    by_key = {(c.fault, c.step): c for c in cells}
    for fault in faults:
        row = [fault]
        for step in steps:
            cell = by_key.get((fault, step))
            if cell is None:
                row.append("-")
                continue
            ratio = f" p95 x{cell.p95_ratio:.1f}" if cell.p95_ratio is not None else ""
            ok = (
                f" {cell.during.success_rate * 100:.1f}%"
                if cell.during.success_rate is not None
                else ""
            )
            rps = f" rps x{cell.rps_ratio:.1f}" if cell.rps_ratio is not None else ""
            row.append(f"{cell.status}{ratio}{rps}{ok}")
        rows.append(tuple(row))
    return [format_table(("fault", *steps), rows, indent="  ")]


def format_scorecard(result: Result) -> str:
    """The score, SLO verdicts, resiliency matrix, fault impacts and live events, as text."""
    card = result.score
    out = [f"{result.experiment.name}: {result.outcome.upper()} (verdict {result.verdict})"]
    if card is not None:
        out.append(
            f"Resilience score {_score(card.total)}/100 (baseline {_score(card.baseline)}, "
            f"fault {_score(card.fault)}, recovery {_score(card.recovery)}, "
            f"whole run {_score(card.whole_run)}). {card.reason}"
        )
        if card.lowest is not None and card.highest is not None and card.lowest != card.highest:
            out.append(
                f"With the inconclusive SLOs decided, it would lie between "
                f"{card.lowest:.0f} and {card.highest:.0f}."
            )
    check = result.baseline_check
    if check is not None:
        state = (
            "held"
            if check.met
            else ("did NOT hold; continued" if check.continued else "did NOT hold")
        )
        out.append(f"Steady state at {check.at_s:g}s: {state}. {check.detail}".rstrip())
    for stop in result.stops:
        if stop.manual_by is not None:  # a stop button on the live dashboard
            out.append(f"Stopped by hand at {stop.fired_at_s:g}s: {stop.condition}: {stop.action}.")
            continue
        out.append(
            f"Stop condition {stop.name!r} fired at {stop.fired_at_s:g}s ({stop.condition}, "
            f"breached {stop.breach_from_s:g}s to {stop.breach_to_s:g}s): {stop.action}."
        )
    for fault in result.faults:
        if fault.skipped:
            out.append(f"Fault {fault.label!r} was not injected: {fault.skipped}.")
    out += ["", "SLOs", *(_slo_line(s) for s in result.slos)]
    if result.matrix is not None:
        out += ["", "Resiliency matrix (fault x step, during the fault vs baseline)"]
        out += _matrix_lines(result.matrix.cells, result.matrix.faults, result.matrix.steps)
    for impact in result.fault_impacts:
        detect = "-" if impact.time_to_detect_s is None else f"{impact.time_to_detect_s:g}s"
        recover = {
            "not-recovered": "NOT recovered by the end of the run",
            "interrupted": "recovery cut short by the next fault",
            "not-needed": "nothing to recover",
        }.get(impact.recovery, f"recovered after {impact.time_to_recover_s or 0:g}s")
        radius = ", ".join(impact.blast_radius) or "nothing"
        out.append(
            f"  {impact.fault}: blast radius {radius}; detected after {detect}; {recover}"
            + (f" ({impact.note})" if impact.note else "")
        )
    if result.reference is not None:
        out.append(
            f"Compared with run {result.reference.run_id} ({result.reference.path}, "
            f"{result.reference.verdict})."
        )
    return "\n".join(out)
