"""Turn pydantic's validation errors into SpecIssue items a person can act on (pure).

Each error gets the closest known line, a dotted key path, a full-sentence message quoting the
bad value, and a hint. The allowed keys and values come from the models themselves.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from peakday.errors import SpecIssue
from peakday.experiment.hints import all_of, closest, did_you_mean, one_of, quote, sentence
from peakday.experiment.models import Experiment
from peakday.experiment.units import DURATION_HINT, SpecValueError, parse_duration_s
from peakday.experiment.yaml_lines import KeyPath, Locator, format_key_path

# A line to show for a key, used in hints when it is missing or has the wrong type.
_EXAMPLES: Mapping[str, str] = types.MappingProxyType(
    {
        "name": "name: checkout-peak",
        "load": "'load:' with users, spawn_rate and duration indented below it",
        "users": "users: 50",
        "spawn_rate": "spawn_rate: 10",
        "duration": "duration: 5m",
        "warmup": "warmup: 30s",
        "until": "until: 2m",
        "request_timeout": "request_timeout: 10s",
        "at": "at: 1m",
        "proxy": "proxy: auth_login",
        "toxic": "toxic: latency",
        "toxicity": "toxicity: 0.5",
        "request": "request: checkout",
        "metric": "metric: p95",
        "objective": 'objective: "< 800ms"',
        "phase": "phase: fault",
        "weight": "weight: 2",
        "key": "key: true",
        "warning": 'warning: "< 1s"',
        "target": 'target: "99.5%"',
        "when": 'when: "< 90%"',
        "sustained": "sustained: 10s",
        "recovery_hold": "recovery_hold: 5s",
        "pass_score": "pass_score: 90",
        "warn_score": "warn_score: 75",
        "factor": "factor: 14.4",
        "long": "long: 1m",
        "short": "short: 5s",
        "stop_conditions": "'stop_conditions: []' for none, or one '- name: ...' item per "
        "condition below it",
        "faults": "'faults: []' for none, or one '- at: ...' item per fault below it",
        "slos": "'slos: []' for none, or one '- name: ...' item per SLO below it",
        "stages": "'stages: []' for none, or one '- until: ...' item per stage below it",
    }
)
_NOUNS: Mapping[str, str] = types.MappingProxyType(
    {"toxic": "toxic type", "journeys": "journey", "stream": "stream direction"}
)
_ATTRIBUTE_HINT = (
    "Toxic attributes are plain numbers in Toxiproxy's units (milliseconds for latency, "
    "jitter and timeout, KB/s for rate, bytes for bytes), such as latency: 500."
)


@dataclass(frozen=True)
class _Slot:
    """What the models expect at a key path: the type, and the field and model declaring it."""

    annotation: object
    field: FieldInfo | None = None
    owner: type[BaseModel] | None = None


def shape_issues(error: ValidationError, data: object, locator: Locator) -> list[SpecIssue]:
    """One issue per pydantic error, in pydantic's order.

    A missing key that an unknown key next to it probably misspells ('spawnrate' for
    'spawn_rate') is left out: the unknown key's "did you mean" already says what to do.
    """
    details = error.errors(include_url=False)
    misspelt = _misspelt_keys(details, data)
    return [
        _issue(detail, data, locator)
        for detail in details
        if not (detail["type"] == "missing" and _data_path(detail["loc"], data) in misspelt)
    ]


def _misspelt_keys(details: list[ErrorDetails], data: object) -> set[KeyPath]:
    """Paths of required keys that an unknown key at the same level is a close match for."""
    found: set[KeyPath] = set()
    for detail in details:
        path = _data_path(detail["loc"], data)
        if detail["type"] == "extra_forbidden" and path:
            allowed = _field_names(_slot_at(path[:-1]))
            match = closest(path[-1], allowed)
            if match is not None:
                found.add((*path[:-1], match))
    return found


def _issue(detail: ErrorDetails, data: object, locator: Locator) -> SpecIssue:
    loc = tuple(detail["loc"])
    is_key = bool(loc) and loc[-1] == "[key]"
    path = _data_path(loc, data)
    kind = detail["type"]
    ctx: dict[str, Any] = dict(detail.get("ctx") or {})
    present, raw = _lookup(data, path)
    if kind == "extra_forbidden" or is_key:
        value: object = path[-1] if path else detail["input"]
    else:
        value = raw if present else detail["input"]
    # A bad dict key is named after the dict ('journeys'), not after itself.
    name = _field_name(path[:-1] if is_key else path)
    message, hint = _explain(kind, ctx, path, name, value, _slot_at(path), detail["msg"])
    return locator.issue(path, message, hint)


def _explain(
    kind: str,
    ctx: dict[str, Any],
    path: KeyPath,
    name: str,
    value: object,
    slot: _Slot | None,
    pydantic_message: str,
) -> tuple[str, str]:
    shown = quote(value)
    if kind == "missing":
        return f"The required key {name!r} is missing.", _missing_hint(path, name)
    if value is None and kind.endswith("_type"):
        # 'key:' with nothing after it reads as null in YAML.
        return f"The key {name!r} has no value.", _missing_hint(path, name, "Write one")
    if kind == "extra_forbidden":
        allowed = _field_names(_slot_at(path[:-1]))
        hint = f"{did_you_mean(value, allowed)}Keys allowed here: {all_of(allowed)}."
        return f"Unknown key {shown}.", hint
    if kind == "literal_error":
        allowed = _literal_values(slot)
        noun = _NOUNS.get(name, name.replace("_", " ") or "value")
        hint = f"{did_you_mean(value, allowed)}Choose one of: {one_of(allowed)}."
        return f"Unknown {noun} {shown}.", hint
    if kind in ("bool_type", "bool_parsing"):
        return f"Expected true or false, got {shown}.", f"Write {name}: true or {name}: false."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"Expected a whole number, got {shown}.", _number_hint(path, name, value)
    if kind in ("float_type", "float_parsing"):
        return f"Expected a number, got {shown}.", _number_hint(path, name, value)
    if kind == "finite_number":
        return f"Expected a finite number, got {shown}.", _number_hint(path, name, value)
    if kind == "string_type":
        if name in ("objective", "warning", "when"):
            return f"Expected text, got {shown}.", f"Write a comparison, such as {_EXAMPLES[name]}."
        return f"Expected text, got {shown}.", f'Put it in quotes, such as {name}: "{value}".'
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"Expected a mapping of keys, got {shown}.", (
            "Write its keys on the lines below it, indented by two spaces."
        )
    if kind in ("tuple_type", "list_type"):
        return f"Expected a list, got {shown}.", (
            "Write one item per line below it, each starting with '- '."
        )
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return _bound_message(kind, ctx, value, slot), _bound_hint(slot, name)
    if kind == "string_too_short":
        return f"The {name} cannot be empty.", _missing_hint(path, name, "Write one")
    if kind == "string_too_long":
        limit = ctx.get("max_length")
        return f"The text is longer than {limit} characters: {shown}.", "Shorten it."
    if kind == "string_pattern_mismatch":
        return (
            f"The {name} {shown} can only use letters, digits, '_', '.' and '-', "
            "starting with a letter or digit.",
            "Write it such as 'checkout-peak'.",
        )
    if kind == "value_error":
        error = ctx.get("error")
        if isinstance(error, SpecValueError):
            return error.message, error.hint
        return sentence(str(error)), ""
    return f"{sentence(pydantic_message)[:-1]}, got {shown}.", ""


def _missing_hint(path: KeyPath, name: str, action: str = "") -> str:
    example = _EXAMPLES.get(name)
    tail = f", such as {example}." if example else "."
    if action:
        return f"{action}{tail}"
    parent = format_key_path(path[:-1])
    where = f"under '{parent}'" if parent else "at the top level"
    return f"Add it {where}{tail}"


def _number_hint(path: KeyPath, name: str, value: object) -> str:
    if len(path) >= 2 and path[-2] == "attributes":
        return _ATTRIBUTE_HINT
    if len(path) >= 2 and path[-2] == "journeys":
        return "Journey weights are plain numbers, such as shopper: 6."
    example = _EXAMPLES.get(name, f"{name}: 10")
    if isinstance(value, bool):
        return (
            "YAML reads yes, no, on, off, true and false as booleans; "
            f"write a number instead, such as {example}."
        )
    if isinstance(value, str):
        if _looks_numeric(value):
            return f"Remove the quotes, such as {example}."
        return f"Write a plain number without units, such as {example}."
    return f"Write a number, such as {example}."


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bound_message(kind: str, ctx: dict[str, Any], value: object, slot: _Slot | None) -> str:
    shown = quote(value)
    if _is_duration(slot) and kind == "greater_than" and ctx.get("gt") == 0:
        return f"The duration must be longer than zero, got {shown}."
    words = {
        "greater_than": ("greater than", "gt"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "less_than_equal": ("at most", "le"),
    }
    phrase, key = words[kind]
    limit = ctx.get(key)
    limit_text = f"{limit:g}" if isinstance(limit, int | float) else repr(limit)
    return f"The value must be {phrase} {limit_text}, got {shown}."


def _bound_hint(slot: _Slot | None, name: str) -> str:
    if _is_duration(slot):
        return DURATION_HINT
    if name == "toxicity":
        return "Toxicity is the share of connections affected, from 0.0 to 1.0."
    example = _EXAMPLES.get(name)
    return f"For example {example}." if example else ""


def _is_duration(slot: _Slot | None) -> bool:
    if slot is None or slot.field is None:
        return False
    return any(
        isinstance(item, BeforeValidator) and item.func is parse_duration_s
        for item in slot.field.metadata
    )


def _field_name(path: KeyPath) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return ""


def _data_path(loc: tuple[int | str, ...], data: object) -> KeyPath:
    """pydantic's loc without its own markers ('[key]', union member names)."""
    path: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        if part == "[key]":
            continue
        is_last = all(rest == "[key]" for rest in loc[index + 1 :])
        present, child = _child(current, part)
        if present or is_last:
            path.append(part)
            current = child
    return tuple(path)


def _lookup(data: object, path: KeyPath) -> tuple[bool, object]:
    current = data
    for part in path:
        present, current = _child(current, part)
        if not present:
            return False, None
    return True, current


def _child(container: object, part: str | int) -> tuple[bool, object]:
    if isinstance(container, dict) and part in container:
        return True, container[part]
    if isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container):
        return True, container[part]
    return False, None


def _slot_at(path: KeyPath) -> _Slot | None:
    """Follow `path` through the Experiment model's fields, tuples and dicts."""
    slot: _Slot | None = _Slot(Experiment)
    for part in path:
        if slot is None:
            return None
        slot = _step(slot, part)
    return slot


def _step(slot: _Slot, part: str | int) -> _Slot | None:
    annotation = _model_member(_unwrap(slot.annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        return _Slot(field.annotation, field, annotation) if field is not None else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (tuple, list) and args:
        return _Slot(args[0])
    if origin is dict and len(args) == 2 and _is_model(_model_member(_unwrap(args[1]))):
        return _Slot(args[1])  # entries that are mappings of their own (external.proxies)
    if origin is dict and len(args) == 2:
        # Entries of a dict stay on the dict's slot: the only literal in a dict is the key type
        # (journey names), which is what a key error needs.
        return _Slot(annotation, slot.field, slot.owner)
    return None


def _unwrap(annotation: object) -> object:
    """Strip Annotated[...] and `| None` to the type that matters for messages."""
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        members = [arg for arg in args if arg is not type(None)]
        if origin is typing.Annotated:
            annotation = args[0]
        elif origin in (typing.Union, types.UnionType) and len(members) == 1:
            annotation = members[0]
        else:
            return annotation


def _is_model(annotation: object) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _model_member(annotation: object) -> object:
    """The one model of a union such as `Literal['local'] | ToxiproxyServer`, else as given."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [m for m in map(_unwrap, typing.get_args(annotation)) if _is_model(m)]
        if len(models) == 1:
            return models[0]
    return annotation


def _field_names(slot: _Slot | None) -> list[str]:
    annotation = _model_member(_unwrap(slot.annotation)) if slot is not None else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _literal_values(slot: _Slot | None) -> list[str]:
    if slot is None:
        return []
    annotation = _unwrap(slot.annotation)
    if typing.get_origin(annotation) is dict:
        annotation = _unwrap(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) is typing.Literal:
        return [str(value) for value in typing.get_args(annotation)]
    return []
