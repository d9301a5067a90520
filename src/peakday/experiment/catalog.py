"""The experiments shipped in the package: run by name (`peakday run smoke`), listed with their
one-line descriptions (`peakday experiments`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from peakday.assets import shipped_experiment, shipped_experiment_files


@dataclass(frozen=True)
class ShippedExperiment:
    name: str
    description: str
    path: Path


def resolve_experiment_path(given: str | os.PathLike[str], cwd: Path) -> Path:
    """`given` itself when it names a file (relative to `cwd`); else the shipped experiment of
    that name when `given` is a bare name such as 'smoke'; else `given` unchanged, so that
    reading it reports the missing file."""
    path = Path(given)
    if (cwd / path).exists() or len(path.parts) != 1:
        return path
    shipped = shipped_experiment(path.name)
    return shipped if shipped is not None else path


def describe(text: str, fallback: str) -> str:
    """The `description:` of an experiment's YAML text on one line, else `fallback`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return fallback
    description = data.get("description") if isinstance(data, dict) else None
    if not isinstance(description, str) or not description.strip():
        return fallback
    return " ".join(description.split())


def shipped_experiments() -> list[ShippedExperiment]:
    """Every shipped experiment with its one-line description, sorted by name."""
    return [
        ShippedExperiment(
            path.stem, describe(path.read_text(encoding="utf-8"), "(no description)"), path
        )
        for path in shipped_experiment_files()
    ]
