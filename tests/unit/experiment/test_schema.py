"""The shipped JSON Schema equals the one generated from the models, and accepts what
validation accepts (every shipped experiment and example) and refuses a misspelt key."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from peakday.assets import EXPERIMENT_SCHEMA, shipped_experiment_files
from peakday.experiment.loader import load_experiment
from peakday.experiment.schema import experiment_schema, experiment_schema_text

REPO = Path(__file__).resolve().parents[3]
# Experiment files of the examples (not the Compose files beside them, which have no `name:`).
EXAMPLES = sorted(
    path
    for path in (REPO / "examples").glob("*/*.yaml")
    if "name" in (yaml.safe_load(path.read_text()) or {})
)


def test_the_shipped_schema_is_the_one_the_models_generate() -> None:
    assert EXPERIMENT_SCHEMA.read_text(encoding="utf-8") == experiment_schema_text(), (
        "regenerate: peakday schema > src/peakday/experiment/experiment.schema.json"
    )


@pytest.mark.parametrize(
    "path", [*shipped_experiment_files(), *EXAMPLES], ids=lambda path: path.name
)
def test_every_valid_experiment_is_valid_under_the_schema(path: Path) -> None:
    load_experiment(path)  # validation accepts it ...
    jsonschema.validate(yaml.safe_load(path.read_text()), experiment_schema())  # ... so does this


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"laod": {}}, "laod"),
        ({"load": {"users": 4, "duration": "30 seconds"}}, "duration"),
        ({"platform": "kubernetes"}, "kubernetes"),
    ],
    ids=["misspelt-key", "bad-duration", "unknown-platform"],
)
def test_the_schema_refuses_what_validation_refuses(change: dict[str, object], where: str) -> None:
    spec = {"name": "x", "load": {"users": 4, "duration": "30s"}, **change}
    with pytest.raises(jsonschema.ValidationError, match=where):
        jsonschema.validate(spec, experiment_schema())
