"""`peakday score RESULT_DIR [--spec FILE]`: judge a saved run again, from its timeline alone.

With --spec, the SLOs, stop conditions and scoring settings come from that file (load and faults
stay what the run did). The result is rewritten unless --dry-run; the exit code is the run's.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from peakday.reporting.writer import write_reports_or_warn
from peakday.results.model import MatrixCell, Result, SloResult
from peakday.scoring.slo import show


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _slo_line(slo: SloResult) -> str:
    value = "no value" if slo.value is None else show(slo.value, slo.metric)
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
    from peakday.commands.plan import table

    rows: list[tuple[str, ...]] = [("fault", *steps)]
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
    return [table(rows)]


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


@click.command(name="score")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--spec",
    "spec_file",
    type=click.Path(path_type=Path),
    help="Judge with this experiment file's SLOs, stop conditions and scoring settings.",
)
@click.option(
    "--compare-to",
    "compare_to",
    help="A run folder (or a name under results/) for '<= +10%' objectives; overrides the spec.",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the new verdict without rewriting result.json."
)
def score(run_dir: Path, spec_file: Path | None, compare_to: str | None, dry_run: bool) -> None:
    """Re-score a saved run from its timeline (optionally with a changed spec)."""
    from peakday.console import make_console
    from peakday.experiment.loader import load_experiment
    from peakday.results.outcome import exit_code_for
    from peakday.results.reference import load_reference
    from peakday.results.store import load_result
    from peakday.scoring.evaluate import rescore, spec_differences

    err = make_console(stderr=True)
    result = load_result(run_dir)
    spec = load_experiment(spec_file) if spec_file is not None else None
    if spec is not None:
        for part in spec_differences(result.experiment, spec):
            err.print(
                f"[yellow]warning:[/yellow] the spec's {part} differ from the run's; "
                f"only its SLOs, stop conditions and scoring settings are used.",
                highlight=False,
            )
    wanted = compare_to or (spec or result.experiment).scoring.compare_to
    reference = load_reference(wanted) if wanted is not None else None
    if compare_to is not None:  # judged against the run given on the command line
        base = spec or result.experiment
        spec = base.model_copy(
            update={"scoring": base.scoring.model_copy(update={"compare_to": compare_to})}
        )
    rescored = rescore(result, spec, reference)
    if not dry_run:
        path = run_dir / "result.json" if run_dir.is_dir() else run_dir
        path.write_text(rescored.model_dump_json(indent=2), encoding="utf-8")
        # The rendered reports must not go stale next to a re-scored result.json.
        write_reports_or_warn(rescored, path.parent, lambda text: err.print(f"warning: {text}"))
    click.echo(format_scorecard(rescored))
    if rescored.outcome == "warn":
        err.print("[yellow]warning:[/yellow] the run passed with warnings (exit 0).")
    sys.exit(exit_code_for(rescored))
