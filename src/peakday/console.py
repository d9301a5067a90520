"""Rich consoles for the CLI: wide enough in CI logs that tables keep their names whole."""

from __future__ import annotations

import sys

from rich.console import Console

# Not a terminal (CI logs, pipes): rich would assume 80 columns and squeeze the SLO tables.
PIPED_WIDTH = 160


def make_console(*, stderr: bool = False, no_color: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPED_WIDTH
    return Console(stderr=stderr, no_color=no_color, width=width)


# Key in click's Context.meta (shared by the group and its commands): a command that was given
# --no-color sets it, so the error message the group prints is plain as well.
NO_COLOR_META = "peakday.no_color"
