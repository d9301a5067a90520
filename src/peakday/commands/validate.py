"""`peakday validate FILES...`: check experiment files and report every problem in one pass."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check experiment files and report every problem in one pass."""
    from rich.markup import escape

    from peakday.console import make_console
    from peakday.errors import SpecError, SpecIssue
    from peakday.experiment.loader import validate_files

    out = make_console()
    issues: list[SpecIssue] = []
    for path, found in validate_files(list(files)).items():
        issues += found
        if not found:
            out.print(f"{escape(str(path))}: ok", highlight=False)
    if issues:
        raise SpecError(issues)  # the CLI prints each issue on its own line and exits 2
    sys.exit(0)
