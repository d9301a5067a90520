"""What a run amounts to (its outcome) and the process exit code each outcome maps to."""

from __future__ import annotations

from typing import Literal, Protocol

# "stopped": ended early on purpose (baseline not met, or a stop condition ending the run).
RunStatus = Literal["completed", "stopped", "interrupted", "error"]
# What the run amounts to, one word; the exit code follows from it (exit_code_for below).
Outcome = Literal[
    "pass", "warn", "fail", "inconclusive", "baseline-not-met", "aborted", "interrupted", "error"
]

# The one table of outcome -> exit code; the CLI's help text is checked against it
# (tests/unit/test_cli.py) and docs/scoring.md explains it.
EXIT_CODES: dict[Outcome, int] = {
    "pass": 0,
    "warn": 0,
    "fail": 1,
    "error": 3,
    "inconclusive": 4,
    "baseline-not-met": 5,
    "aborted": 6,
    "interrupted": 130,
}

INTERRUPTED_EXIT_CODE = EXIT_CODES["interrupted"]


class _RunStatus(Protocol):
    @property
    def status(self) -> RunStatus: ...


class Judged(Protocol):
    """What the exit code depends on: a Result (results.model imports this module, so the
    type is described here rather than imported)."""

    @property
    def run(self) -> _RunStatus: ...

    @property
    def outcome(self) -> Outcome: ...


def exit_code_for(result: Judged) -> int:
    """The process exit code for a finished run."""
    if result.run.status == "interrupted":
        return INTERRUPTED_EXIT_CODE
    return EXIT_CODES[result.outcome]
