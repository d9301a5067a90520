"""`peakday run EXPERIMENT`: bring up the platform, drive load, inject faults, score, report."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from peakday.console import NO_COLOR_META


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command()
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Results folder.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the final summary.")
@click.option("--no-color", is_flag=True, help="No colour, no live view: plain progress lines.")
@click.option(
    "--platform",
    "platform_name",
    type=click.Choice(["local", "docker", "external", "compose"]),
    help="Where the system under test runs (the storefront on local or docker, your own services "
    "on external, your own Compose project on compose); overrides the experiment's 'platform'.",
)
@click.option(
    "--pull",
    is_flag=True,
    help="On compose: let Docker Compose pull images the project lacks (never, without it).",
)
@click.option(
    "--build",
    is_flag=True,
    help="On compose: let Docker Compose build the project's images (never, without it).",
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
@click.pass_context
def run(
    ctx: click.Context,
    experiment: Path,
    out_dir: Path | None,
    quiet: bool,
    no_color: bool,
    platform_name: str | None,
    pull: bool,
    build: bool,
    allow_non_local: bool,
    master_bind: str | None,
    expect_workers: str | None,
) -> None:
    """Run an experiment: drive load, inject faults, score, report.

    The platform decides what is started: on local and docker the mock storefront (processes or
    containers) and Toxiproxy; on external only Toxiproxy (or none, with external.toxiproxy.api)
    in front of services you run yourself, which are never started or stopped; on compose your
    own Compose project, with its intercepted services behind Toxiproxy (docs/compose.md).
    """
    from peakday.console import make_console
    from peakday.errors import PeakdayError
    from peakday.orchestrator import run_experiment
    from peakday.platforms.factory import make_platform
    from peakday.reporting.live import progress_for
    from peakday.reporting.terminal import format_summary
    from peakday.reporting.writer import write_reports_if_result, write_reports_or_warn
    from peakday.results.outcome import exit_code_for
    from peakday.runconfig import RunOverrides, build_run_config

    ctx.meta[NO_COLOR_META] = no_color  # the CLI's error message honours --no-color too
    console = make_console(stderr=True, no_color=no_color)
    out = make_console(no_color=no_color)
    overrides = RunOverrides(
        platform=platform_name,
        allow_non_local=allow_non_local,
        master_bind=master_bind,
        expect_workers=expect_workers,
        out_dir=out_dir,
        pull=pull,
        build=build,
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
    except PeakdayError:
        if run_dir is not None:  # a run that broke may still have written a partial result
            write_reports_if_result(run_dir)
        raise  # the CLI turns it into the error message and exit code
    write_reports_or_warn(result, config.run_dir, console.out)  # report.html, summary.md, junit
    out.print(format_summary(result, str(config.run_dir)))
    sys.exit(exit_code_for(result))
