"""The peakday group: one error path, the exit-code table and its help text, run/validate."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import click
import pytest
from click.testing import CliRunner

from peakday.cli import EXIT_CODE_MEANINGS, EXIT_CODES_HELP, PeakdayGroup, main
from peakday.errors import (
    EnvironmentProblem,
    PeakdayError,
    ResultError,
    SpecError,
    SpecIssue,
    ToxiproxyError,
    UsageError,
)
from peakday.results.outcome import EXIT_CODES, Outcome

ISSUES = [
    SpecIssue("a.yaml", 3, "load.users", "Expected a number, got 'many'.", "Write 10."),
    SpecIssue("a.yaml", None, "", "The file [is] empty."),
]


def _error_classes(cls: type[PeakdayError] = PeakdayError) -> list[type[PeakdayError]]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _error_classes(sub))]


def test_every_outcome_has_an_exit_code() -> None:
    assert set(EXIT_CODES) == set(get_args(Outcome))


def test_every_exit_code_has_a_help_line_and_every_help_line_a_code() -> None:
    used = set(EXIT_CODES.values()) | {cls.exit_code for cls in _error_classes()}
    assert set(EXIT_CODE_MEANINGS) == used


def test_the_help_lists_each_exit_code_with_its_meaning() -> None:
    text = CliRunner().invoke(main, ["--help"], terminal_width=200).output
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert f"  {code:<5}{meaning.splitlines()[0]}" in text
    assert EXIT_CODES_HELP.splitlines()[1] == "Exit codes:"


def _group_raising(error: PeakdayError) -> click.Group:
    @click.group(cls=PeakdayGroup)
    def group() -> None:
        pass

    @group.command()
    def boom() -> None:
        raise error

    @group.group()
    def nested() -> None:
        pass

    @nested.command(name="boom")
    def nested_boom() -> None:
        raise error

    return group


@pytest.mark.parametrize(
    ("error", "code", "lines"),
    [
        (
            SpecError(ISSUES),
            2,
            [
                "error: a.yaml:3: load.users: Expected a number, got 'many'. Hint: Write 10.",
                "error: a.yaml: The file [is] empty.",
            ],
        ),
        (ResultError("No result at 'x'."), 2, ["error: No result at 'x'."]),
        (UsageError("--pull and --offline."), 2, ["error: --pull and --offline."]),
        (EnvironmentProblem("No 'toxiproxy-server'."), 3, ["error: No 'toxiproxy-server'."]),
        (ToxiproxyError("Toxiproxy [refused]."), 3, ["error: Toxiproxy [refused]."]),
        (PeakdayError("Something else."), 1, ["error: Something else."]),
    ],
    ids=["spec-error", "result-error", "usage-error", "environment", "subclass", "base"],
)
@pytest.mark.parametrize("command", [["boom"], ["nested", "boom"]], ids=["command", "subgroup"])
def test_a_raised_error_is_printed_once_and_exits_with_its_code(
    error: PeakdayError, code: int, lines: list[str], command: list[str]
) -> None:
    outcome = CliRunner().invoke(_group_raising(error), command)
    assert outcome.exit_code == code
    assert outcome.stderr.splitlines() == lines
    assert outcome.stdout == ""


def test_validate_prints_every_issue_and_exits_2(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("name: good\nload: {users: 1, spawn_rate: 1, duration: 5s}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nload: {users: many, spawn_rate: 1, duration: forever}\n")
    outcome = CliRunner().invoke(main, ["validate", str(good), str(bad)])
    assert outcome.exit_code == 2, outcome.output
    assert outcome.stdout == f"{good}: ok\n"
    errors = outcome.stderr.splitlines()
    assert len(errors) == 2 and all(line.startswith(f"error: {bad}:2:") for line in errors)


def test_validate_of_valid_files_exits_0(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("name: good\nload: {users: 1, spawn_rate: 1, duration: 5s}\n")
    outcome = CliRunner().invoke(main, ["validate", str(good)])
    assert (outcome.exit_code, outcome.stderr) == (0, "")


def test_run_of_a_missing_file_is_a_usage_error_and_starts_nothing(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(main, ["run", str(tmp_path / "nope.yaml"), "--no-color"])
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("error: ") and "nope.yaml" in outcome.stderr
    assert not (tmp_path / "results").exists()


def test_run_with_dashboard_before_the_experiment_runs_that_experiment(tmp_path: Path) -> None:
    # `--dashboard` takes an optional HOST:PORT; a name without ':PORT' is the experiment.
    missing = tmp_path / "nope.yaml"
    outcome = CliRunner().invoke(main, ["run", "--no-color", "--dashboard", str(missing)])
    assert outcome.exit_code == 2
    assert "nope.yaml" in outcome.stderr and "Missing argument" not in outcome.stderr


@pytest.mark.parametrize("bind", [[], ["127.0.0.1:8080"]])
def test_run_with_a_dashboard_and_no_experiment_says_the_experiment_is_missing(
    bind: list[str],
) -> None:
    outcome = CliRunner().invoke(main, ["run", "--no-color", "--dashboard", *bind])
    assert outcome.exit_code == 2
    assert "Missing argument 'EXPERIMENT'" in outcome.stderr


@pytest.mark.parametrize("command", ["run", "validate"])
def test_run_and_validate_help_ends_with_the_exit_codes(command: str) -> None:
    text = CliRunner().invoke(main, [command, "--help"], terminal_width=200).output
    assert "Exit codes:" in text and "  130  interrupted" in text


def test_run_help_says_what_each_platform_starts() -> None:
    text = CliRunner().invoke(main, ["run", "--help"], terminal_width=200).output
    assert "start the storefront" not in text.lower(), "not on external"
    assert "on external only Toxiproxy" in text and "never started or stopped" in text


@pytest.mark.parametrize("tag", ["has space", "-leading-dash", "a:b", "x" * 129])
def test_images_build_refuses_a_tag_docker_would_not_take(tag: str) -> None:
    outcome = CliRunner().invoke(main, ["images", "build", "--offline", "--tag", tag])

    assert outcome.exit_code == 2
    assert f"--tag {tag!r} is not a Docker image tag" in outcome.output
    assert "Hint:" in outcome.output
