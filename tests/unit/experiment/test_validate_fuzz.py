"""Whatever the input, validation returns issues (one line each) instead of raising."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peakday.experiment.validate import validate_text

KEYS = [
    *("name", "description", "platform", "load", "faults", "slos", "users", "spawn_rate"),
    *("duration", "warmup", "stages", "until", "journeys", "shopper", "pos", "at", "proxy"),
    *("toxic", "attributes", "latency", "stream", "toxicity", "request", "metric", "objective"),
    *("phase", "sloss", "[key]"),
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["30s", "2m", "0s", "-1m", "auth_login", "latency", "down", "< 800ms", "p95"]),
    st.text(max_size=12),
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=6),
    ),
    max_leaves=40,
)


def assert_well_formed(text: str) -> None:
    result = validate_text(text, "fuzz.yaml")

    assert (result.experiment is None) == bool(result.issues)
    for issue in result.issues:
        formatted = issue.format()
        assert "\n" not in formatted
        assert issue.message.endswith(".")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), DOCUMENTS, max_size=8))
def test_any_yaml_mapping_gives_issues_not_exceptions(document: dict[str, object]) -> None:
    assert_well_formed(yaml.safe_dump(document))


@settings(max_examples=150)
@given(
    st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\" \n\t#%@`,?0123456789")), max_size=60)
)
def test_any_text_gives_issues_not_exceptions(text: str) -> None:
    assert_well_formed(text)


SMOKE = yaml.safe_load((Path(__file__).parent / "fixtures" / "smoke.yaml").read_text())


def leaf_paths(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    children: list[tuple[str | int, object]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    paths = [path]
    for key, child in children:
        paths += leaf_paths(child, (*path, key))
    return paths


def replaced(value: object, path: tuple[str | int, ...], new: object) -> object:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = dict(value) if isinstance(value, dict) else list(value)  # type: ignore[call-overload]
    copy[head] = replaced(copy[head], rest, new)
    return copy


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(leaf_paths(SMOKE)[1:]), DOCUMENTS)
def test_one_bad_value_anywhere_gives_located_issues(
    path: tuple[str | int, ...], new: object
) -> None:
    text = yaml.safe_dump(replaced(SMOKE, path, new), sort_keys=False)

    assert_well_formed(text)
    assert all(issue.line is not None for issue in validate_text(text, "fuzz.yaml").issues)


def test_a_key_with_a_newline_in_it_is_shown_escaped_on_one_line() -> None:
    # Found by the property test above: the unknown key "A\n" broke the issue over two lines.
    document = {**SMOKE, "load": {**SMOKE["load"], "A\n": 1}}
    text = yaml.safe_dump(document, sort_keys=False)
    result = validate_text(text, "fuzz.yaml")
    formatted = [issue.format() for issue in result.issues]
    assert formatted and all("\n" not in line for line in formatted)
    assert any("load.A\\n" in line for line in formatted)
