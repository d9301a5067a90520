"""The one plain-text table helper."""

from __future__ import annotations

from peakday.reporting.formatting import format_table


def test_columns_line_up_two_spaces_apart_without_trailing_spaces() -> None:
    text = format_table(("name", "value", ""), [("a", "1", ""), ("longer", "22", "x")])
    assert text.splitlines() == ["name    value", "a       1", "longer  22     x"]


def test_a_rule_under_the_header_and_an_indent_on_every_line() -> None:
    text = format_table(("at", "fault"), [("10s", "slow")], indent="  ", rule=True)
    assert text.splitlines() == ["  at   fault", "  ---  -----", "  10s  slow"]


def test_a_header_alone_is_a_table() -> None:
    assert format_table(("phase", "SLO"), []) == "phase  SLO"
