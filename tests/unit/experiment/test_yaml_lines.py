from __future__ import annotations

import pytest

from peakday.experiment.yaml_lines import MAX_VALUES, format_key_path, line_for, parse_yaml

NESTED = """\
name: x
load:
  users: 5
faults:
  - at: 1m
    attributes:
      latency: 5
  -
    toxic: down
"""


def test_lines_of_keys_and_sequence_items() -> None:
    parsed = parse_yaml(NESTED, "f.yaml")

    assert parsed.issues == ()
    assert parsed.data == {
        "name": "x",
        "load": {"users": 5},
        "faults": [{"at": "1m", "attributes": {"latency": 5}}, {"toxic": "down"}],
    }
    assert parsed.lines[("load", "users")] == 3
    assert parsed.lines[("faults", 0)] == 5
    assert parsed.lines[("faults", 0, "attributes", "latency")] == 7
    assert parsed.lines[("faults", 1, "toxic")] == 9


def test_line_for_walks_up_to_the_nearest_known_key() -> None:
    lines = parse_yaml(NESTED, "f.yaml").lines

    assert line_for(lines, ("faults", 0, "attributes", "jitter")) == 6
    assert line_for(lines, ("load", "duration")) == 2
    assert line_for(lines, ("nowhere", 3)) == 1


@pytest.mark.parametrize(
    ("path", "text"),
    [
        pytest.param((), "", id="root"),
        pytest.param(("load", "users"), "load.users", id="keys"),
        pytest.param(
            ("faults", 0, "attributes", "latency"), "faults[0].attributes.latency", id="index"
        ),
        pytest.param(
            ("load", "journeys", "my journey"), "load.journeys['my journey']", id="odd-key"
        ),
    ],
)
def test_format_key_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_key_path(path) == text


def test_duplicate_key_names_both_lines() -> None:
    parsed = parse_yaml("load:\n  users: 1\n  duration: 1m\n  users: 2\n", "f.yaml")

    (issue,) = parsed.issues
    assert (issue.line, issue.key_path) == (4, "load.users")
    assert "lines 2 and 4" in issue.message
    assert parsed.data == {"load": {"users": 2, "duration": "1m"}}


def test_merge_keys_are_not_duplicates_and_keep_the_anchor_lines() -> None:
    text = "base: &b\n  users: 1\n  duration: 1m\nload:\n  <<: *b\n  users: 2\n"

    parsed = parse_yaml(text, "f.yaml")

    assert parsed.issues == ()
    assert parsed.data == {
        "base": {"users": 1, "duration": "1m"},
        "load": {"users": 2, "duration": "1m"},
    }
    assert parsed.lines[("load", "users")] == 6
    assert parsed.lines[("load", "duration")] == 3


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        pytest.param("a: 1\n b: 2\n", 2, "mapping values", id="bad-indent"),
        pytest.param("a: [1, 2\nb: 3\n", 2, "cannot be read", id="unclosed-bracket"),
        pytest.param("a: 1\n---\nb: 2\n", 2, "another document", id="two-documents"),
        pytest.param("a: *nowhere\n", 1, "undefined alias", id="unknown-alias"),
        pytest.param("a: 1\nb: \x07\n", 2, "control character", id="control-character"),
    ],
)
def test_syntax_errors_carry_the_line(text: str, line: int, words: str) -> None:
    parsed = parse_yaml(text, "f.yaml")

    assert parsed.data is None
    (issue,) = parsed.issues
    assert issue.line == line
    assert words in issue.message
    assert issue.hint


def test_python_tags_are_refused() -> None:
    parsed = parse_yaml("name: !!python/object/apply:os.system ['true']\n", "f.yaml")

    assert parsed.data is None
    (issue,) = parsed.issues
    assert issue.line == 1
    assert "plain YAML" in issue.hint


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("- a\n- b\n", "a list", id="list"),
        pytest.param("just text\n", "'just text'", id="scalar"),
    ],
)
def test_top_level_must_be_a_mapping(text: str, words: str) -> None:
    (issue,) = parse_yaml(text, "f.yaml").issues

    assert issue.line == 1
    assert "must be a mapping" in issue.message
    assert words in issue.message


@pytest.mark.parametrize("text", ["", "   \n", "# nothing\n"], ids=["empty", "blank", "comment"])
def test_empty_document_is_an_issue(text: str) -> None:
    (issue,) = parse_yaml(text, "f.yaml").issues

    assert "empty" in issue.message


def test_alias_to_its_own_block_is_refused() -> None:
    parsed = parse_yaml("a: &loop\n  - *loop\n", "f.yaml")

    assert parsed.data is None
    (issue,) = parsed.issues
    assert "refers to the block that contains it" in issue.message


def test_alias_explosion_is_refused_before_it_grows() -> None:
    rows = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 7)]

    parsed = parse_yaml("\n".join(rows) + "\n", "f.yaml")

    assert parsed.data is None
    (issue,) = parsed.issues
    assert str(MAX_VALUES) in issue.message


def test_lines_follow_the_last_of_duplicate_keys_like_the_data_does() -> None:
    parsed = parse_yaml("load:\n  users: 1\nload:\n  users: many\n", "f.yaml")

    assert parsed.data == {"load": {"users": "many"}}
    assert parsed.lines[("load", "users")] == 4
    assert [issue.line for issue in parsed.issues] == [3]
