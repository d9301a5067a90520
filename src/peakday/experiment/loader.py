"""Read experiment files from disk and validate them (the spec package's only I/O)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from peakday.errors import SpecError, SpecIssue
from peakday.experiment.catalog import resolve_experiment_path
from peakday.experiment.models import Experiment
from peakday.experiment.promql_syntax import promql_issues, promtool_checker
from peakday.experiment.validate import Validation, validate_text
from peakday.experiment.yaml_lines import Locator, parse_yaml
from peakday.topology import Topology

StrPath = str | os.PathLike[str]


def load_experiment(path: StrPath, topology: Topology | None = None) -> Experiment:
    """Read and validate one experiment file; raise SpecError listing every issue found."""
    validation = check_file(path, topology)
    if validation.experiment is None:
        raise SpecError(list(validation.issues))
    return validation.experiment


def validate_files(
    paths: Iterable[StrPath], topology: Topology | None = None
) -> dict[str, list[SpecIssue]]:
    """Issues for each file, keyed by the path as given; an empty list means the file is valid."""
    return {os.fspath(path): list(check_file(path, topology).issues) for path in paths}


def check_file(path: StrPath, topology: Topology | None = None) -> Validation:
    """Read one file and validate it; reading problems come back as issues too."""
    file = os.fspath(resolve_experiment_path(path, Path.cwd()))
    text_or_issue = read_text(file)
    if isinstance(text_or_issue, SpecIssue):
        return Validation(None, (text_or_issue,))
    checked = validate_text(text_or_issue, file, topology)
    experiment = checked.experiment
    if experiment is not None and experiment.platform == "compose":
        # The one check that asks the outside world: how the real Compose CLI reads the project.
        from peakday.experiment.compose_checks import check_project
        from peakday.experiment.compose_project import read_project

        locator = Locator(file, parse_yaml(text_or_issue, file).lines)
        compose_issues = check_project(experiment, locator, Path(file), read_project)
        if compose_issues:
            return Validation(None, tuple(compose_issues))
    if experiment is None or not experiment.server_series:
        return checked
    check = promtool_checker()
    if check is None:
        return checked
    locator = Locator(file, parse_yaml(text_or_issue, file).lines)
    issues = tuple(promql_issues(experiment, locator, check))
    return Validation(None, issues) if issues else checked


def read_text(file: str) -> str | SpecIssue:
    """The file's text as UTF-8 (a leading BOM is dropped), or an issue saying why not."""
    try:
        raw = Path(file).read_bytes()
    except FileNotFoundError:
        return SpecIssue(
            file,
            None,
            "",
            "The file does not exist.",
            f"Check the path (relative paths start from {os.getcwd()!r}), or name a shipped "
            "experiment such as 'smoke' ('peakday experiments' lists them).",
        )
    except IsADirectoryError:
        return SpecIssue(
            file,
            None,
            "",
            "This is a directory, not an experiment file.",
            "Pass the YAML file itself, such as 'experiments/smoke.yaml'.",
        )
    except PermissionError:
        return SpecIssue(
            file,
            None,
            "",
            "The file cannot be read: permission denied.",
            "Check the file's permissions for the user running peakday.",
        )
    except OSError as error:
        return SpecIssue(file, None, "", f"The file cannot be read: {error.strerror or error}.", "")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        return SpecIssue(
            file,
            line,
            "",
            f"The file is not UTF-8 text: byte {raw[error.start]:#04x} cannot be decoded.",
            "Save the file as UTF-8; most editors offer it under 'Save with encoding'.",
        )
