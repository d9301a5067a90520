"""The error tree's one formatter: what the user reads, whatever the entry point."""

from __future__ import annotations

from peakday.errors import EnvironmentProblem, SpecError, SpecIssue, format_error


def test_a_spec_error_reads_as_one_line_per_issue() -> None:
    issues = [
        SpecIssue("a.yaml", 3, "load.users", "Expected a number.", "Write 10."),
        SpecIssue("b.yaml", None, "", "Empty."),
    ]
    assert format_error(SpecError(issues)) == [
        "a.yaml:3: load.users: Expected a number. Hint: Write 10.",
        "b.yaml: Empty.",
    ]


def test_any_other_error_reads_as_its_message() -> None:
    assert format_error(EnvironmentProblem("No 'docker'. Hint: install it.")) == [
        "No 'docker'. Hint: install it."
    ]
