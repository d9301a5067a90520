"""The `peakday` command: thin; turns errors into one-paragraph messages and exit codes."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import NoReturn

import click
from rich.console import Console
from rich.markup import escape

from peakday.errors import PeakdayError, SpecError

EXIT_CODES_HELP = """\b
Exit codes:
  0    every SLO passed
  1    an SLO failed
  2    bad input or usage (the message names file, line and key)
  3    environment problem (a binary missing, a service that will not come up)
  4    inconclusive (an SLO had no data to judge)
  130  interrupted (Ctrl-C or SIGTERM); results measured so far are still written
"""

MAIN_HELP = f"""Rehearse peak-day login-path failures: real load (Locust), real faults (Toxiproxy).

\b
Examples:
  peakday validate experiments/*.yaml
  peakday run experiments/smoke.yaml
  peakday run experiments/cyber-monday-login-outage.yaml --out results/rehearsal-1
  peakday report results/rehearsal-1

{EXIT_CODES_HELP}"""


class PlainProgress:
    """Periodic log lines; the live terminal view comes from the reporting layer later."""

    def __init__(self, console: Console, quiet: bool) -> None:
        self._console = console
        self._quiet = quiet
        self._last_tick = 0.0

    def tick(self, elapsed_s: float, duration_s: float, active_faults: list[str]) -> None:
        if self._quiet or time.monotonic() - self._last_tick < 5.0:
            return
        self._last_tick = time.monotonic()
        faults = ", ".join(active_faults) or "none"
        self._console.print(
            f"[dim]{elapsed_s:5.0f}/{duration_s:.0f} s  active faults: {faults}[/dim]"
        )

    def message(self, text: str) -> None:
        if not self._quiet:
            self._console.print(f"[dim]peakday:[/dim] {text}")


def _fail(console: Console, error: PeakdayError) -> NoReturn:
    if isinstance(error, SpecError):
        for issue in error.issues:
            console.print(f"[red]error:[/red] {escape(issue.format())}", highlight=False, soft_wrap=True)
    else:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
    sys.exit(error.exit_code)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _tools_dirs(experiment_path: Path) -> tuple[Path, ...]:
    dirs = []
    if os.environ.get("PEAKDAY_TOOLS_DIR"):
        dirs.append(Path(os.environ["PEAKDAY_TOOLS_DIR"]))
    dirs.append(Path.cwd() / ".tools" / "bin")
    dirs.append(experiment_path.resolve().parent.parent / ".tools" / "bin")
    return tuple(dict.fromkeys(dirs))


def _locustfile(experiment_path: Path) -> Path:
    for base in (Path.cwd(), experiment_path.resolve().parent.parent):
        candidate = base / "locustfiles" / "storefront.py"
        if candidate.is_file():
            return candidate
    return Path.cwd() / "locustfiles" / "storefront.py"


@click.group(help=MAIN_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what peakday does in detail.")
def main(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check experiment files and report every problem in one pass."""
    from peakday.spec.loader import validate_files

    console = Console(stderr=True)
    problems = validate_files(list(files))
    count = 0
    for path, issues in problems.items():
        for issue in issues:
            count += 1
            console.print(f"[red]error:[/red] {escape(issue.format())}", highlight=False, soft_wrap=True)
        if not issues:
            Console().print(f"{escape(str(path))}: ok", highlight=False)
    sys.exit(2 if count else 0)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Results folder.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the final summary.")
def run(experiment: Path, out_dir: Path | None, quiet: bool) -> None:
    """Run an experiment: start the storefront, drive load, inject faults, score, report."""
    from peakday.orchestrator import RunConfig, new_run_id, run_experiment
    from peakday.platforms.factory import make_platform
    from peakday.reporting.terminal import format_summary
    from peakday.spec.loader import load_experiment

    console = Console(stderr=True)
    out = Console()
    try:
        spec = load_experiment(experiment)
        run_id = new_run_id()
        run_dir = out_dir or Path("results") / (
            f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{spec.name}"
        )
        config = RunConfig(
            experiment=spec,
            run_dir=run_dir,
            locustfile=_locustfile(experiment),
            tools_dirs=_tools_dirs(experiment),
            run_id=run_id,
        )
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        result = run_experiment(config, make_platform, PlainProgress(console, quiet))
    except PeakdayError as error:
        _fail(console, error)
    out.print(format_summary(result, str(run_dir)))
    if result.run.status == "interrupted":
        sys.exit(130)
    sys.exit({"pass": 0, "fail": 1, "inconclusive": 4}[result.verdict])


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path))
def report(run_dir: Path) -> None:
    """Print the summary of a saved run (from result.json)."""
    from peakday.reporting.terminal import format_summary
    from peakday.results.store import load_result

    try:
        result = load_result(run_dir)
    except PeakdayError as error:
        _fail(Console(stderr=True), error)
    Console().print(format_summary(result, str(run_dir)))
    sys.exit({"pass": 0, "fail": 1, "inconclusive": 4}[result.verdict])

