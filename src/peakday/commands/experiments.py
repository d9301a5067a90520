"""`peakday experiments`: the experiments shipped in the package, by name, with one line each."""

from __future__ import annotations

import click


def format_catalog(rows: list[tuple[str, str]]) -> str:
    """One line per experiment: its name padded to the longest, then its description."""
    width = max((len(name) for name, _ in rows), default=0)
    return "\n".join(f"{name:<{width}}  {description}" for name, description in rows)


@click.command()
@click.option("--paths", is_flag=True, help="Also print where each file is, to copy and edit it.")
def experiments(paths: bool) -> None:
    """List the shipped experiments; run one by name: peakday run smoke."""
    from peakday.experiment.catalog import shipped_experiments

    rows = [
        (item.name, f"{item.description}  [{item.path}]" if paths else item.description)
        for item in shipped_experiments()
    ]
    click.echo(format_catalog(rows))
