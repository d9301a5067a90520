"""`peakday init [--platform local|docker|external] [NAME]`: a commented experiment that
validates and runs as written (and, for external, a starter locustfile)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("name", default="my-experiment")
@click.option(
    "--platform",
    type=click.Choice(["local", "docker", "external"]),
    default="local",
    show_default=True,
    help="local: the mock storefront as processes; docker: as containers; external: your own "
    "service behind Toxiproxy (also writes a starter locustfile).",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    help="Folder to write into (default: this one).",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def init(name: str, platform: str, folder: Path, force: bool) -> None:
    """Write NAME.yaml, a commented experiment for the platform, with a schema line for editors.

    \b
    Examples:
      peakday init                          my-experiment.yaml on the local platform
      peakday init --platform external shop shop.yaml and shop_locust.py for your service
    """
    from peakday.assets import EXPERIMENT_SCHEMA
    from peakday.errors import UsageError
    from peakday.experiment.starter import starter_files

    try:
        files = starter_files(platform, name, EXPERIMENT_SCHEMA.as_uri())
    except ValueError as error:
        raise UsageError(f"{error} Hint: peakday init --platform local my-rehearsal") from error
    existing = [str(folder / f.path) for f in files if (folder / f.path).exists()]
    if existing and not force:
        raise UsageError(
            f"{', '.join(map(repr, existing))} already exists; nothing was written. "
            "Hint: give another NAME, or --force to overwrite."
        )
    folder.mkdir(parents=True, exist_ok=True)
    for starter in files:
        (folder / starter.path).write_text(starter.text, encoding="utf-8")
        click.echo(f"wrote {folder / starter.path}")
    click.echo(f"next: peakday validate {folder / files[0].path}")
    click.echo(f"      peakday run {folder / files[0].path}")
