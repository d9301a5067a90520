"""The JSON Schema of experiment files, generated from the pydantic models, for editors (a
`# yaml-language-server: $schema=...` line). Validation messages stay the source of truth; the
schema only helps while typing. The copy shipped in the package (assets.EXPERIMENT_SCHEMA) is
kept equal to this by tests/unit/experiment/test_schema.py; regenerate it with
`peakday schema > src/peakday/experiment/experiment.schema.json`."""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from peakday.experiment.load_spec import parse_rate_per_s
from peakday.experiment.models import Experiment
from peakday.experiment.units import parse_duration_s

SCHEMA_ID = "https://peakday.dev/schemas/experiment.schema.json"
DURATION_STRING: JsonSchemaValue = {
    "type": "string",
    "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$",
    "description": "A duration such as '30s', '2m' or '500ms' (a bare number is seconds).",
}
RATE_STRING: JsonSchemaValue = {
    "type": "string",
    "pattern": r"^\s*\d+(\.\d+)?\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$",
    "description": "Journeys per second, minute or hour, such as '40/s' or '2400/min'.",
}


class ExperimentJsonSchema(GenerateJsonSchema):
    """Pydantic's generator, taught that durations and rates may be written as strings."""

    def function_before_schema(
        self, schema: core_schema.BeforeValidatorFunctionSchema
    ) -> JsonSchemaValue:
        inner = super().function_before_schema(schema)
        function: Any = schema["function"].get("function")
        if function is parse_duration_s:
            return {"anyOf": [inner, DURATION_STRING]}
        if function is parse_rate_per_s:
            return {"anyOf": [inner, RATE_STRING]}
        return inner


def experiment_schema() -> dict[str, Any]:
    """The schema as a dict, with $schema, $id and a title editors show."""
    generated = Experiment.model_json_schema(schema_generator=ExperimentJsonSchema)
    # ProxyEntry's short form `name: upstream` is read by a model validator the generator
    # cannot see: say so here.
    proxy_entry = generated["$defs"]["ProxyEntry"]
    generated["$defs"]["ProxyEntry"] = {
        "anyOf": [
            {"type": "string", "minLength": 1, "description": "An upstream's name."},
            proxy_entry,
        ]
    }
    # `source: prometheus` SLOs and stop conditions name no request or metric: a model validator
    # fills them in from the name (their series is their query).
    for model in ("Slo", "StopCondition"):
        definition = generated["$defs"][model]
        definition["required"] = [
            key for key in definition.get("required", []) if key not in ("request", "metric")
        ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **generated,
        "title": "peakday experiment",
    }


def experiment_schema_text() -> str:
    """The schema as the shipped file holds it: sorted keys, two-space indent, final newline."""
    return json.dumps(experiment_schema(), indent=2, sort_keys=True) + "\n"
