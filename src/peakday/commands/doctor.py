"""`peakday doctor`: what this machine has for each platform, and the command that fixes what
it lacks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


@click.command()
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    type=click.Choice(["local", "docker", "external"]),
    help="Platforms that must be ready (repeatable; default: local). Exit 3 when one lacks "
    "something; everything else is reported but not required.",
)
def doctor(platforms: tuple[str, ...]) -> None:
    """Report toxiproxy, Go, the Docker engine, images, Compose and Chromium: present or not,
    their versions, and the fixing command for each."""
    from peakday.images.build import runtime_images
    from peakday.install.doctor import format_checks, missing_for, run_checks
    from peakday.install.host import SystemHost
    from peakday.runconfig import tools_dirs_for

    tools_dirs = tools_dirs_for(Path("experiment.yaml"), os.environ, Path.cwd())
    checks = run_checks(SystemHost(), tools_dirs, runtime_images())
    click.echo(format_checks(checks))
    wanted = platforms or ("local",)
    missing = missing_for(checks, wanted)
    if missing:
        names = ", ".join(check.name for check in missing)
        click.echo(f"\nnot ready for platform {'/'.join(wanted)}: missing {names}", err=True)
        sys.exit(3)
    click.echo(f"\nready for platform {'/'.join(wanted)}")
