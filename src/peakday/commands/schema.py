"""`peakday schema`: the JSON Schema of experiment files, for editors."""

from __future__ import annotations

import click


@click.command()
@click.option("--path", "show_path", is_flag=True, help="Print where the shipped copy is instead.")
def schema(show_path: bool) -> None:
    """Print the JSON Schema of experiment files (generated from the models). Editors with the
    YAML language server use it through a first line such as
    '# yaml-language-server: $schema=<path printed by --path>'; see docs/editors.md."""
    if show_path:
        from peakday.assets import EXPERIMENT_SCHEMA

        click.echo(str(EXPERIMENT_SCHEMA))
        return
    from peakday.experiment.schema import experiment_schema_text

    click.echo(experiment_schema_text(), nl=False)
