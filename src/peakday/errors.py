"""The one exception hierarchy of peakday; each error carries the exit code the CLI returns.

    PeakdayError                 base; exit code 1 unless a subclass says otherwise
    ├── SpecError                bad experiment file or usage (exit 2); holds SpecIssue items
    ├── UsageError               bad command-line usage (exit 2)
    ├── EnvironmentProblem       binary missing, port or service will not come up (exit 3)
    │   ├── ServiceStartError    a child process or container did not become healthy
    │   ├── ToxiproxyError       the Toxiproxy API refused or timed out
    │   ├── AdminEndpointError   a storefront admin endpoint refused or timed out
    │   └── ImageMissing         a container image is not present locally (exit 3)
    └── ResultError              a saved result cannot be read (exit 2)

Messages are full sentences quoting the bad value with !r and ending with a "Hint: ..." when
there is something the user can do.
"""

from __future__ import annotations

from dataclasses import dataclass


class PeakdayError(Exception):
    """Base of every error peakday raises on purpose."""

    exit_code: int = 1


class UsageError(PeakdayError):
    exit_code = 2


@dataclass(frozen=True)
class SpecIssue:
    """One problem in an experiment file, located by file, line and key path."""

    file: str
    line: int | None
    key_path: str
    message: str
    hint: str = ""

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        key = f" {self.key_path}:" if self.key_path else ""
        hint = f" Hint: {self.hint}" if self.hint else ""
        return _one_line(f"{where}:{key} {self.message}{hint}")


def _one_line(text: str) -> str:
    """A YAML key may hold a newline or other control character: shown escaped, the issue
    stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class SpecError(PeakdayError):
    exit_code = 2

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(issue.format() for issue in issues))


class EnvironmentProblem(PeakdayError):
    exit_code = 3


class ServiceStartError(EnvironmentProblem):
    pass


class ToxiproxyError(EnvironmentProblem):
    pass


class AdminEndpointError(EnvironmentProblem):
    """A storefront service's admin endpoint refused a service-level fault or did not answer."""


class ImageMissing(EnvironmentProblem):
    pass


class ResultError(PeakdayError):
    exit_code = 2


def format_error(error: PeakdayError) -> list[str]:
    """The lines that tell the user about `error`: one per issue of a SpecError, else its message.

    Pure, so every entry point (the CLI, `python -m peakday.storefront`) says the same thing and
    only decides how to print it.
    """
    if isinstance(error, SpecError):
        return [issue.format() for issue in error.issues]
    return [str(error)]
