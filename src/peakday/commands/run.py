"""`peakday run EXPERIMENT`: start the storefront, drive load, inject faults, score, report."""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from types import FrameType

import click

from peakday.console import NO_COLOR_META


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


@click.command()
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
@click.pass_context
def run(
    ctx: click.Context,
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
    from peakday.console import make_console
    from peakday.errors import PeakdayError
    from peakday.experiment.loader import load_experiment
    from peakday.load.worker_options import apply_worker_options
    from peakday.orchestrator import RunConfig, new_run_id, run_experiment
    from peakday.platforms.factory import make_platform
    from peakday.reporting.live import progress_for
    from peakday.reporting.terminal import format_summary
    from peakday.reporting.writer import write_reports_if_result, write_reports_or_warn
    from peakday.results.outcome import exit_code_for

    ctx.meta[NO_COLOR_META] = no_color  # the CLI's error message honours --no-color too
    console = make_console(stderr=True, no_color=no_color)
    out = make_console(no_color=no_color)
    run_dir: Path | None = None
    try:
        spec = load_experiment(experiment)
        from peakday.platforms.external import choose_platform, locustfile_for

        spec = choose_platform(spec, platform_name, allow_non_local)
        spec = apply_worker_options(spec, master_bind, expect_workers)
        run_id = new_run_id()
        run_dir = out_dir or Path("results") / (
            f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{spec.name}"
        )
        config = RunConfig(
            experiment=spec,
            run_dir=run_dir,
            locustfile=locustfile_for(spec, experiment) or _locustfile(experiment),
            tools_dirs=_tools_dirs(experiment),
            run_id=run_id,
        )
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        # Live view on a terminal, plain lines otherwise (reporting/live.py).
        environ = dict(os.environ)
        with progress_for(
            console, spec, quiet=quiet, no_color=no_color, environ=environ
        ) as progress:
            result = run_experiment(config, make_platform, progress)
    except PeakdayError:
        if run_dir is not None:  # a run that broke may still have written a partial result
            write_reports_if_result(run_dir)
        raise  # the CLI turns it into the error message and exit code
    write_reports_or_warn(result, config.run_dir, console.out)  # report.html, summary.md, junit
    out.print(format_summary(result, str(config.run_dir)))
    sys.exit(exit_code_for(result))
