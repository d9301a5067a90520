"""`peakday score RESULT_DIR [--spec FILE]`: judge a saved run again, from its timeline alone.

With --spec, the SLOs, stop conditions and scoring settings come from that file (load and faults
stay what the run did). The result is rewritten unless --dry-run; the exit code is the run's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


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
    from peakday.reporting.scorecard import format_scorecard
    from peakday.reporting.writer import write_reports_or_warn
    from peakday.results.encoding import result_json_chunks
    from peakday.results.folder import RunFolder, write_text_atomic
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
        path = RunFolder(run_dir).result if run_dir.is_dir() else run_dir
        write_text_atomic(path, result_json_chunks(rescored))
        # The rendered reports must not go stale next to a re-scored result.json.
        write_reports_or_warn(rescored, path.parent, lambda text: err.print(f"warning: {text}"))
    click.echo(format_scorecard(rescored))
    if rescored.outcome == "warn":
        err.print("[yellow]warning:[/yellow] the run passed with warnings (exit 0).")
    sys.exit(exit_code_for(rescored))
