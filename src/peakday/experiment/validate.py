"""Validate experiment data into an Experiment, collecting every problem in one pass (pure).

Shape first (pydantic, through the models); when the shape is sound, cross-references against the
topology. Each problem is a SpecIssue naming the file, line and key path, with a hint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from peakday.errors import SpecIssue
from peakday.experiment.crossref import reference_issues
from peakday.experiment.models import Experiment
from peakday.experiment.shape_issues import shape_issues
from peakday.experiment.yaml_lines import KeyPath, Locator, parse_yaml
from peakday.topology import Topology, storefront_topology


@dataclass(frozen=True)
class Validation:
    """The outcome for one file: the experiment when there are no issues, else the issues."""

    experiment: Experiment | None
    issues: tuple[SpecIssue, ...]

    @property
    def ok(self) -> bool:
        return not self.issues


def validate_data(
    data: object,
    lines: Mapping[KeyPath, int],
    file: str,
    topology: Topology | None = None,
) -> Validation:
    """Check already-parsed data; `lines` maps key paths to lines (see yaml_lines.parse_yaml)."""
    locator = Locator(file, lines)
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as error:
        return Validation(None, _in_file_order(shape_issues(error, data, locator)))
    issues = reference_issues(experiment, locator, topology or storefront_topology())
    if issues:
        return Validation(None, _in_file_order(issues))
    return Validation(experiment, ())


def validate_text(text: str, file: str, topology: Topology | None = None) -> Validation:
    """Parse YAML text and validate it; `file` only names the source in issues."""
    parsed = parse_yaml(text, file)
    if parsed.data is None:
        return Validation(None, parsed.issues)
    checked = validate_data(parsed.data, parsed.lines, file, topology)
    if parsed.issues:
        return Validation(None, _in_file_order([*parsed.issues, *checked.issues]))
    return checked


def _in_file_order(issues: list[SpecIssue]) -> tuple[SpecIssue, ...]:
    # Stable sort: issues on one line keep the order the checks found them in.
    return tuple(sorted(issues, key=lambda issue: issue.line if issue.line is not None else 0))
