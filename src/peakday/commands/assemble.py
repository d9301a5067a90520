"""`peakday assemble DIR`: rebuild result.json from a run's events.jsonl and metrics.jsonl.

For a run that never wrote its result (SIGKILL, OOM kill, power cut): what it measured until
then is scored like any other run and marked interrupted. Run `peakday clean` first to stop
anything the killed run left behind.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Only write the files; print nothing.")
def assemble(run_dir: Path, quiet: bool) -> None:
    """Rebuild RUN_DIR/result.json (and the reports) from the run's own event and metrics logs.

    \b
    Exits like the run would have: 130 for a run that was killed before its end.
    Example:
      peakday clean && peakday assemble results/rehearsal-1
    """

    from peakday.assemble import assemble_folder
    from peakday.console import make_console
    from peakday.reporting.terminal import format_summary
    from peakday.reporting.writer import write_reports
    from peakday.results.folder import RunFolder
    from peakday.results.outcome import exit_code_for

    folder = RunFolder.of(run_dir)
    result = assemble_folder(folder)
    written = write_reports(result, folder.path)
    if not quiet:
        console = make_console()
        console.print(format_summary(result, str(folder.path)))
        console.print(
            "Wrote " + ", ".join(str(p) for p in [folder.result, *written]),
            markup=False,
            highlight=False,
        )
    sys.exit(exit_code_for(result))
