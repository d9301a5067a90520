"""`peakday tools install`: toxiproxy-server and toxiproxy-cli into the tools folder."""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.group()
def tools() -> None:
    """The binaries peakday drives (toxiproxy-server, toxiproxy-cli)."""


@tools.command()
@click.option(
    "--dir",
    "tools_dir",
    type=click.Path(path_type=Path),
    help="Install here instead of $PEAKDAY_TOOLS_DIR or <XDG data dir>/peakday/tools/bin.",
)
@click.option("--force", is_flag=True, help="Rebuild even when the pinned version is there.")
def install(tools_dir: Path | None, force: bool) -> None:
    """Build toxiproxy-server/-cli at peakday's pinned version with 'go install' into the
    per-user tools folder, where runs look first; without Go, say where to download them."""
    from peakday.install.host import SystemHost
    from peakday.install.toxiproxy import install_toxiproxy
    from peakday.processes.tools import TOXIPROXY_VERSION, user_tools_dir

    target = (tools_dir or user_tools_dir(os.environ)).absolute()
    report = install_toxiproxy(SystemHost(), target, os.environ, force=force)
    for name in report.already_there:
        click.echo(f"{name} v{TOXIPROXY_VERSION} is already in {target}")
    for name in report.installed:
        click.echo(f"installed {name} v{TOXIPROXY_VERSION} into {target}")


@tools.command()
def path() -> None:
    """Print the tools folder runs look in first."""
    from peakday.processes.tools import user_tools_dir

    click.echo(str(user_tools_dir(os.environ)))
