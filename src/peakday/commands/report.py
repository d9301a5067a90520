"""`peakday report DIR`: re-render every report from a saved result.json and print the summary."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from peakday.results.folder import RunFolder


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Only write the files; print nothing.")
@click.option(
    "--serve",
    "serve_bind",
    metavar="[HOST:PORT]",
    is_flag=False,
    flag_value="127.0.0.1:0",
    default=None,
    help="Then serve the run's live dashboard as a replay with a time slider (alone: 127.0.0.1 "
    "and a free port) until Ctrl-C. Put it after RUN_DIR, or write --serve=HOST:PORT.",
)
def report(run_dir: Path, quiet: bool, serve_bind: str | None) -> None:
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
    if serve_bind is not None:
        _serve(folder, serve_bind)
    sys.exit(exit_code_for(result))


def _serve(folder: RunFolder, bind: str) -> None:
    """The dashboard of a finished run, replayed, until Ctrl-C."""
    from peakday.dashboard.control import new_token, parse_bind
    from peakday.dashboard.server import DashboardServer
    from peakday.errors import UsageError

    host, port = parse_bind(bind)
    try:
        dashboard = DashboardServer(folder, host, port, new_token(), None, replay=True)
    except OSError as error:
        raise UsageError(
            f"--serve could not listen on {host}:{port}: {error.strerror or error}. "
            "Hint: pick another port, or leave it off for a free one."
        ) from error
    dashboard.start()
    click.echo(f"dashboard (replay): {dashboard.url}  (Ctrl-C ends it)", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        dashboard.stop()
