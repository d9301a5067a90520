"""docs/result-schema.md names every field result.json can hold, so the doc cannot fall behind."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.dataclasses import is_pydantic_dataclass

from peakday.results import loadhealth, model, scorecard, traffic

DOC = Path(__file__).resolve().parents[3] / "docs" / "result-schema.md"


def result_models() -> list[type[Any]]:
    """The models and the pydantic dataclasses (TimelineRow) result.json is made of."""
    found = []
    for module in (model, scorecard, loadhealth, traffic):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            public = not cls.__name__.startswith("_")
            pydantic = issubclass(cls, BaseModel) or is_pydantic_dataclass(cls)
            if public and pydantic and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_timeline_rows_are_checked_too() -> None:
    assert model.TimelineRow in result_models()


@pytest.mark.parametrize("cls", result_models(), ids=lambda cls: cls.__name__)
def test_every_field_is_documented(cls: type[Any]) -> None:
    fields = cls.model_fields if issubclass(cls, BaseModel) else cls.__pydantic_fields__
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z0-9_]+)`", text))
    # "uncorrected_p50_ms ... uncorrected_max_ms" documents the whole family.
    missing = [
        name for name in fields if name not in documented and not name.startswith("uncorrected_")
    ]
    assert not missing, f"docs/result-schema.md does not mention {cls.__name__} fields {missing}"


def test_the_documented_version_is_the_current_one() -> None:
    assert f"(schema version {model.SCHEMA_VERSION})" in DOC.read_text(encoding="utf-8")
