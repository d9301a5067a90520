"""The `peakday` command: thin; turns errors into one-paragraph messages and exit codes."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import NoReturn

import click
from rich.console import Console
from rich.markup import escape

from peakday.console import make_console
from peakday.errors import PeakdayError, SpecError
from peakday.results.model import Result

EXIT_CODES_HELP = """\b
Exit codes:
  0    pass: the score reached pass_score and no key SLO failed; also warn (a score
       between warn_score and pass_score), printed as a warning
  1    fail: a key SLO failed, or the score is below warn_score
  2    bad input or usage (the message names file, line and key)
  3    environment problem (a binary missing, a service that will not come up)
  4    inconclusive: an SLO had no data to judge (no requests, a phase that never ran),
       or the load generator was saturated (see load_health.reasons in result.json)
  5    baseline-not-met: the steady state did not hold before the first fault, so no
       fault was injected
  6    aborted: a stop condition fired and rolled the faults back (or ended the run)
  130  interrupted (Ctrl-C or SIGTERM); results measured so far are still written
"""

# Outcome (results.model.Outcome) -> exit code; see EXIT_CODES_HELP and docs/scoring.md.
EXIT_CODES: dict[str, int] = {
    "pass": 0,
    "warn": 0,
    "fail": 1,
    "error": 3,
    "inconclusive": 4,
    "baseline-not-met": 5,
    "aborted": 6,
    "interrupted": 130,
}

MAIN_HELP = f"""Rehearse peak-day login-path failures: real load (Locust), real faults (Toxiproxy).

\b
Examples:
  peakday validate experiments/*.yaml
  peakday run experiments/smoke.yaml
  peakday run experiments/cyber-monday-login-outage.yaml --out results/rehearsal-1
  peakday report results/rehearsal-1

{EXIT_CODES_HELP}"""


def exit_code_for(result: Result) -> int:
    """The process exit code for a finished run (see EXIT_CODES_HELP)."""
    if result.run.status == "interrupted":
        return 130
    return EXIT_CODES[result.outcome]


def _fail(console: Console, error: PeakdayError) -> NoReturn:
    if isinstance(error, SpecError):
        for issue in error.issues:
            console.print(
                f"[red]error:[/red] {escape(issue.format())}", highlight=False, soft_wrap=True
            )
    else:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
    sys.exit(error.exit_code)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


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
    from peakday.experiment.loader import validate_files

    console = make_console(stderr=True)
    problems = validate_files(list(files))
    count = 0
    for path, issues in problems.items():
        for issue in issues:
            count += 1
            console.print(
                f"[red]error:[/red] {escape(issue.format())}", highlight=False, soft_wrap=True
            )
        if not issues:
            make_console().print(f"{escape(str(path))}: ok", highlight=False)
    sys.exit(2 if count else 0)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Results folder.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the final summary.")
@click.option("--no-color", is_flag=True, help="No colour, no live view: plain progress lines.")
@click.option(
    "--platform",
    "platform_name",
    type=click.Choice(["local", "docker", "external"]),
    help="Where the storefront runs; overrides the experiment's 'platform'.",
)
@click.option(
    "--allow-non-local",
    is_flag=True,
    help="Let an external experiment reach targets off this machine (the spec must also set "
    "external.allow_non_local_targets: true).",
)
@click.option(
    "--master-bind",
    metavar="HOST:PORT",
    help="Run Locust distributed, its master listening on HOST:PORT for workers started "
    "elsewhere (overrides load.master_bind). Their settings are written to worker.env in the "
    "results folder; see docs/load.md.",
)
@click.option(
    "--expect-workers",
    metavar="N",
    help="How many workers started elsewhere the master waits for before the load starts "
    "(overrides load.external_workers); needs --master-bind or load.master_bind.",
)
def run(
    experiment: Path,
    out_dir: Path | None,
    quiet: bool,
    no_color: bool,
    platform_name: str | None,
    allow_non_local: bool,
    master_bind: str | None,
    expect_workers: str | None,
) -> None:
    """Run an experiment: start the storefront, drive load, inject faults, score, report."""
    from peakday.orchestrator import run_experiment
    from peakday.platforms.factory import make_platform
    from peakday.reporting.live import progress_for
    from peakday.reporting.terminal import format_summary
    from peakday.reporting.writer import write_reports_if_result, write_reports_or_warn
    from peakday.runconfig import RunOverrides, build_run_config

    console = make_console(stderr=True, no_color=no_color)
    out = make_console(no_color=no_color)
    overrides = RunOverrides(
        platform=platform_name,
        allow_non_local=allow_non_local,
        master_bind=master_bind,
        expect_workers=expect_workers,
        out_dir=out_dir,
    )
    run_dir: Path | None = None
    try:
        config = build_run_config(experiment, overrides, environ=os.environ, cwd=Path.cwd())
        run_dir = config.run_dir
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        # Live view on a terminal, plain lines otherwise (reporting/live.py).
        with progress_for(
            console, config.experiment, quiet=quiet, no_color=no_color, environ=dict(os.environ)
        ) as progress:
            result = run_experiment(config, make_platform, progress)
    except PeakdayError as error:
        if run_dir is not None:  # a run that broke may still have written a partial result
            write_reports_if_result(run_dir)
        _fail(console, error)
    write_reports_or_warn(result, config.run_dir, console.out)  # report.html, summary.md, junit
    out.print(format_summary(result, str(config.run_dir)))
    sys.exit(exit_code_for(result))


def _register_commands() -> None:
    """Commands that live in peakday.commands; each module exposes click commands."""
    # (register new command modules here, one line each)
    main.add_command(importlib.import_module("peakday.commands.assemble").assemble)
    main.add_command(importlib.import_module("peakday.commands.report").report)
    main.add_command(importlib.import_module("peakday.commands.compare").compare)
    main.add_command(importlib.import_module("peakday.commands.history").history)
    main.add_command(importlib.import_module("peakday.commands.images").images)
    main.add_command(importlib.import_module("peakday.commands.clean").clean)
    main.add_command(importlib.import_module("peakday.commands.plan").plan)
    main.add_command(importlib.import_module("peakday.commands.score").score)


_register_commands()
