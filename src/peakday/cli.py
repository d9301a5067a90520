"""The `peakday` command: the group, logging, help text and the one place errors become messages.

Commands live in peakday.commands, one module each, and raise PeakdayError; PeakdayGroup.invoke
prints it (errors.format_error) and exits with the error's code.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import logging
import sys
from collections.abc import Mapping
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from peakday import __version__
from peakday.console import NO_COLOR_META, make_console
from peakday.errors import PeakdayError, format_error

# Exit code -> what it means, for the help text; checked against results.outcome.EXIT_CODES
# and the error tree's exit codes by tests/unit/test_cli.py so the two cannot drift.
EXIT_CODE_MEANINGS: dict[int, str] = {
    0: "pass: the score reached pass_score and no key SLO failed; also warn (a score\n"
    "between warn_score and pass_score), printed as a warning",
    1: "fail: a key SLO failed, or the score is below warn_score",
    2: "bad input or usage (the message names file, line and key)",
    3: "environment problem (a binary missing, a service that will not come up)",
    4: "inconclusive: an SLO had no data to judge (no requests, a phase that never ran),\n"
    "or the load generator was saturated (see load_health.reasons in result.json)",
    5: "baseline-not-met: the steady state did not hold before the first fault, so no\n"
    "fault was injected",
    6: "aborted: a stop condition fired and rolled the faults back (or ended the run)",
    130: "interrupted (Ctrl-C or SIGTERM); results measured so far are still written",
}


def format_exit_codes_help(meanings: Mapping[int, str]) -> str:
    """The 'Exit codes:' block of the help, one code a row, continuation lines indented."""
    lines = ["\b", "Exit codes:"]
    for code, meaning in meanings.items():
        first, *rest = meaning.splitlines()
        lines.append(f"  {code:<5}{first}")
        lines += [" " * 7 + line for line in rest]
    return "\n".join(lines) + "\n"


EXIT_CODES_HELP = format_exit_codes_help(EXIT_CODE_MEANINGS)

MAIN_HELP = f"""Rehearse peak-day login-path failures: real load (Locust), real faults (Toxiproxy).

\b
Examples:
  peakday experiments                      the shipped experiments, by name
  peakday run smoke                        a shipped experiment, by name
  peakday validate my-experiment.yaml
  peakday run cyber-monday-login-outage --out results/rehearsal-1
  peakday report results/rehearsal-1

{EXIT_CODES_HELP}"""


def print_error(console: Console, error: PeakdayError) -> None:
    """The red 'error:' lines for `error`, one per line of errors.format_error."""
    for line in format_error(error):
        console.print(f"[red]error:[/red] {escape(line)}", highlight=False, soft_wrap=True)


class PeakdayGroup(click.Group):
    """A click group that turns any PeakdayError a command raises into its message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PeakdayError as error:
            console = make_console(stderr=True, no_color=bool(ctx.meta.get(NO_COLOR_META)))
            print_error(console, error)
            sys.exit(error.exit_code)


@click.group(
    cls=PeakdayGroup, help=MAIN_HELP, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, "-V", "--version", prog_name="peakday")
@click.option("-v", "--verbose", is_flag=True, help="Log what peakday does in detail.")
def main(verbose: bool) -> None:
    # The interpreter's last garbage collection walks every object the imports made (pydantic's
    # schemas, Jinja's templates): 0.05-0.15 CPU s at the end of every command, with nothing to
    # collect (files are closed and children reaped by then). Freezing them skips that walk.
    atexit.unregister(gc.freeze)  # registered once, however often main runs in one process
    atexit.register(gc.freeze)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


# Each module in peakday.commands exposes a click command of its own name; add new ones here.
COMMAND_MODULES = (
    "validate",
    "run",
    "assemble",
    "report",
    "compare",
    "history",
    "images",
    "clean",
    "plan",
    "score",
    "experiments",
    "tools",
    "doctor",
    "schema",
    "init",
)


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        main.add_command(getattr(importlib.import_module(f"peakday.commands.{name}"), name))
    # The exit-code help lives here beside the main help, so that commands need not import cli.
    for name in ("validate", "run"):
        main.commands[name].epilog = EXIT_CODES_HELP


_register_commands()
