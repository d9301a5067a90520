"""`peakday report DIR`: re-render every report from a saved result.json and print the summary."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Only write the files; print nothing.")
def report(run_dir: Path, quiet: bool) -> None:
    """Re-render report.html, summary.md and junit.xml from RUN_DIR/result.json.

    A run killed before it wrote result.json gets it assembled from its logs first.

    \b
    Exits like the run did: 0 pass, 1 an SLO failed, 4 inconclusive, 130 interrupted.
    Example:
      peakday report results/rehearsal-1
    """
    from peakday.assemble import assemble_folder
    from peakday.console import make_console
    from peakday.reporting.terminal import format_summary
    from peakday.reporting.writer import write_reports
    from peakday.results.folder import RunFolder
    from peakday.results.outcome import exit_code_for
    from peakday.results.store import load_result

    folder = RunFolder.of(run_dir)
    if folder.result.exists() or not folder.events.exists():
        result = load_result(folder.path)
    else:  # a killed run never wrote its result: assemble it from its logs first
        result = assemble_folder(folder)
    written = write_reports(result, folder.path)
    if not quiet:
        console = make_console()
        console.print(format_summary(result, str(folder.path)))
        console.print("Wrote " + ", ".join(str(p) for p in written), markup=False, highlight=False)
    sys.exit(exit_code_for(result))
