"""`peakday images build`: peakday's container images, built locally; pulls only on --pull."""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

import click


@click.group()
def images() -> None:
    """Build the container images the docker platform runs."""


@images.command()
@click.option(
    "--offline",
    is_flag=True,
    help="Make the base images locally (Debian packages via mmdebstrap, Toxiproxy via go).",
)
@click.option("--refresh", is_flag=True, help="Remake base images and dependency wheels.")
@click.option(
    "--pull",
    is_flag=True,
    help="Online builds only: pull the public base images first (otherwise never pulled).",
)
@click.option(
    "--tag",
    default=None,
    metavar="TAG",
    help="Tag the images TAG instead of the peakday version (runs use the version's images), "
    "e.g. to try a build without replacing the images in use.",
)
def build(offline: bool, refresh: bool, pull: bool, tag: str | None) -> None:
    """Build peakday/storefront:<version>, peakday/toxiproxy:<version> and
    peakday/peakday:<version> (peakday itself, for CI jobs that run in a container), and
    peakday/prometheus:<version> when this machine has Debian's prometheus binary.

    From a peakday checkout: its source, cached in .tools/images. Elsewhere: the installed
    peakday, cached in ~/.cache/peakday/images (the first build fetches dependency wheels).

    \b
    Nothing changed since the last build: about a second (every layer cached).
    Examples:
      peakday images build --offline
      peakday images build --pull      # online, fetching python:3.11-slim and toxiproxy
    """
    from rich.markup import escape

    from peakday import __version__
    from peakday.console import make_console
    from peakday.errors import EnvironmentProblem, UsageError
    from peakday.images.build import (
        base_images,
        build_images,
        format_build_report,
        locate_build_paths,
    )
    from peakday.images.engine import connect_docker
    from peakday.images.host_toolchain import default_toolchain
    from peakday.monitoring.server import prometheus_binary
    from peakday.runconfig import tools_dirs_for

    logging.getLogger("peakday.images.build").setLevel(logging.INFO)
    console = make_console(stderr=True)
    if pull and offline:
        raise UsageError("--pull fetches the public base images; --offline never needs them.")
    if tag is not None and not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        raise UsageError(
            f"--tag {tag!r} is not a Docker image tag. Hint: letters, digits, '_', '.' and '-', "
            "e.g. --tag try-1."
        )
    paths = locate_build_paths(Path.cwd(), os.environ)
    engine = connect_docker()
    if pull:
        bases = base_images(False)
        for reference in (bases.python, bases.toxiproxy):
            console.print(f"pulling {escape(reference)} (asked for with --pull)")
            engine.client.images.pull(reference)
    try:
        prometheus: Path | None = Path(
            prometheus_binary(tools_dirs_for(Path("experiment.yaml"), os.environ, Path.cwd()))
        )
    except EnvironmentProblem as exc:  # only `monitoring: prometheus` on docker needs it
        console.print(f"not building the prometheus image: {escape(str(exc))}")
        prometheus = None
    report = build_images(
        offline,
        engine=engine,
        toolchain=default_toolchain(paths.log_dir, sys.executable),
        paths=paths,
        refresh=refresh,
        prometheus_binary=prometheus,
        version=tag or __version__,
    )
    click.echo(format_build_report(report))
