"""`peakday run EXPERIMENT`: bring up the platform, drive load, inject faults, score, report."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from peakday.console import NO_COLOR_META

if TYPE_CHECKING:
    from peakday.dashboard.server import DashboardServer
    from peakday.results.folder import RunFolder
    from peakday.scoring.manual import ManualStops

DEFAULT_DASHBOARD_BIND = "127.0.0.1:0"  # loopback, a free port


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command()
@click.argument("experiment", type=click.Path(path_type=Path), required=False, metavar="EXPERIMENT")
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
@click.option(
    "--dashboard",
    "dashboard_bind",
    metavar="[HOST:PORT]",
    is_flag=False,
    flag_value=DEFAULT_DASHBOARD_BIND,
    default=None,
    help="Serve a live game-day dashboard with stop buttons (alone: 127.0.0.1 and a free port; "
    "its URL, with the control token, is printed at the start). Off loopback, viewing needs the "
    "token too. Before EXPERIMENT, alone, it takes no value; write --dashboard=HOST:PORT.",
)
@click.option(
    "--dashboard-linger",
    metavar="DURATION",
    default="0s",
    show_default=True,
    help="Keep serving the dashboard (and the final report) this long after the run, such as "
    "5m; Ctrl-C ends it early.",
)
@click.pass_context
def run(
    ctx: click.Context,
    experiment: Path | None,
    out_dir: Path | None,
    quiet: bool,
    no_color: bool,
    platform_name: str | None,
    pull: bool,
    build: bool,
    allow_non_local: bool,
    master_bind: str | None,
    expect_workers: str | None,
    dashboard_bind: str | None,
    dashboard_linger: str,
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
    from peakday.scoring.manual import ManualStops

    # What the imports made lives for the whole run: keep the garbage collector's full passes
    # (a run's records and its result make several) from walking it again each time.
    gc.freeze()
    ctx.meta[NO_COLOR_META] = no_color  # the CLI's error message honours --no-color too
    experiment, dashboard_bind = _experiment_and_bind(experiment, dashboard_bind)
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
    linger_s = _linger_seconds(dashboard_linger)
    run_dir: Path | None = None
    dashboard: DashboardServer | None = None
    try:
        config = build_run_config(experiment, overrides, environ=os.environ, cwd=Path.cwd())
        run_dir = config.run_dir
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        manual_stops = ManualStops() if dashboard_bind is not None else None
        if dashboard_bind is not None and manual_stops is not None:
            dashboard = _start_dashboard(config.folder, dashboard_bind, manual_stops)
        try:
            # Live view on a terminal, plain lines otherwise (reporting/live.py).
            with progress_for(
                console, config.experiment, quiet=quiet, no_color=no_color, environ=dict(os.environ)
            ) as progress:
                result = run_experiment(config, make_platform, progress, manual_stops)
        except PeakdayError:
            if run_dir is not None:  # a run that broke may still have written a partial result
                write_reports_if_result(run_dir)
            raise  # the CLI turns it into the error message and exit code
        write_reports_or_warn(result, config.run_dir, console.out)  # report.html, summary.md
        out.print(format_summary(result, str(config.run_dir)))
        if dashboard is not None:
            _linger(dashboard, linger_s)
    finally:
        if dashboard is not None:
            dashboard.stop()
    sys.exit(exit_code_for(result))


def _linger_seconds(text: str) -> float:
    from peakday.errors import UsageError
    from peakday.experiment.units import SpecValueError, parse_duration_s

    try:
        return parse_duration_s(text)
    except SpecValueError as error:
        raise UsageError(
            f"--dashboard-linger {text!r} is not a duration. Hint: such as 90s or 5m."
        ) from error


def _experiment_and_bind(
    experiment: Path | None, dashboard_bind: str | None
) -> tuple[Path, str | None]:
    """`run --dashboard EXP`: the option's optional value took the experiment; give it back.

    A dashboard address is HOST:PORT; a value without ':PORT' is the experiment, and the
    dashboard takes its default address.
    """
    if experiment is None and dashboard_bind is not None and not _is_address(dashboard_bind):
        return Path(dashboard_bind), DEFAULT_DASHBOARD_BIND
    if experiment is None:
        raise click.MissingParameter(param_type="argument", param_hint="'EXPERIMENT'")
    return experiment, dashboard_bind


def _is_address(text: str) -> bool:
    _, colon, port = text.rpartition(":")
    return bool(colon) and port.isdigit()


def _start_dashboard(folder: RunFolder, bind: str, stops: ManualStops) -> DashboardServer:
    from peakday.dashboard.control import new_token, parse_bind
    from peakday.dashboard.server import DashboardServer
    from peakday.errors import UsageError

    host, port = parse_bind(bind)
    try:
        dashboard = DashboardServer(folder, host, port, new_token(), stops, builder_process=True)
    except OSError as error:
        raise UsageError(
            f"--dashboard could not listen on {host}:{port}: {error.strerror or error}. "
            "Hint: pick another port, or leave it off for a free one."
        ) from error
    dashboard.start()
    token = dashboard.access.token
    click.echo(f"dashboard: {dashboard.url}", err=True)
    click.echo(f"dashboard control token: {token} (anyone with it can stop the run)", err=True)
    return dashboard


def _linger(dashboard: DashboardServer, linger_s: float) -> None:
    if linger_s <= 0:
        return
    click.echo(
        f"dashboard: serving the final report at {dashboard.url} for {linger_s:g} s "
        "(Ctrl-C ends it)",
        err=True,
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the grace period early
        time.sleep(linger_s)
