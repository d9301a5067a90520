from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peakday.reporting.svglayout import (
    ELLIPSIS,
    PlacedLabel,
    legend_rows,
    place_labels,
    rows_used,
    text_width,
    truncate_to,
)

FONT_PX = 10.0
GAP = 4.0


def place(labels: list[tuple[float, str]], max_rows: int = 3) -> tuple[PlacedLabel, ...]:
    return place_labels(labels, font_px=FONT_PX, right=628.0, gap=GAP, max_rows=max_rows)


def assert_no_overlap(placed: tuple[PlacedLabel, ...]) -> None:
    """Within a row, estimated label boxes (text width plus the gap) never meet."""
    for a, b in combinations(placed, 2):
        if a.row == b.row and a.text and b.text:
            assert a.end + GAP <= b.x or b.end + GAP <= a.x, (a, b)


def test_a_single_window_keeps_its_label_whole_in_the_first_row() -> None:
    (label,) = place([(210.0, "login-latency")])

    assert (label.x, label.row, label.text) == (210.0, 0, "login-latency")
    assert not label.truncated
    assert rows_used((label,)) == 1


def test_cyber_monday_adjacent_windows_take_a_second_row_instead_of_overlapping() -> None:
    # 40-55 s, 55-75 s and 75-100 s of 150 s on a 570-unit plot starting at x=58 (+3 inset).
    starts = [58 + 570 * t / 150 + 3 for t in (40.0, 55.0, 75.0)]
    labels = list(zip(starts, ("login-slow", "token-issuance-fails", "login-hangs"), strict=True))

    placed = place(labels)

    assert [p.row for p in placed] == [0, 1, 0]
    assert [p.text for p in placed] == [text for _, text in labels]  # nothing cut
    assert [p.x for p in placed] == starts  # each label still starts in its own window
    assert_no_overlap(placed)
    assert rows_used(placed) == 2


def test_labels_come_back_in_the_order_given() -> None:
    placed = place([(300.0, "second"), (100.0, "first")])

    assert [p.full_text for p in placed] == ["second", "first"]


def test_when_every_row_is_taken_the_neighbour_in_the_way_is_cut_short() -> None:
    labels = [(100.0 + 10 * i, f"fault-number-{i}") for i in range(4)]

    placed = place(labels, max_rows=3)

    assert max(p.row for p in placed) == 2
    assert_no_overlap(placed)
    cut = [p for p in placed if p.truncated]
    assert len(cut) == 1 and (cut[0].text == "" or cut[0].text.endswith(ELLIPSIS))
    assert placed[-1].text == "fault-number-3"  # the newcomer keeps its own start


def test_a_label_that_would_run_off_the_chart_is_cut_at_the_edge() -> None:
    (label,) = place([(600.0, "token-issuance-fails")])

    assert label.truncated and label.text.endswith(ELLIPSIS)
    assert label.end <= 628.0


@pytest.mark.parametrize(
    ("width", "expected"),
    [(1000.0, "token-issuance-fails"), (60.0, "token-iss…"), (6.0, "")],
    ids=["fits", "cut", "no-room"],
)
def test_truncate_to_fits_the_width(width: float, expected: str) -> None:
    text = truncate_to("token-issuance-fails", width, FONT_PX)

    assert text == expected
    assert text_width(text, FONT_PX) <= width


windows = st.lists(
    st.tuples(
        st.floats(min_value=58.0, max_value=640.0, allow_nan=False),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz-:", min_size=1, max_size=30),
    ),
    max_size=12,
)


@given(windows)
def test_labels_in_one_row_never_overlap_and_never_move(labels: list[tuple[float, str]]) -> None:
    placed = place(labels)

    assert_no_overlap(placed)
    assert [(p.x, p.full_text) for p in placed] == labels
    assert all(0 <= p.row < 3 for p in placed)
    assert all(p.end <= 628.0 or not p.text for p in placed)


def test_a_legend_that_fits_beside_the_title_stays_on_one_row() -> None:
    assert legend_rows([40.0, 40.0, 40.0], right=628.0, first_row_left=200.0, left=58.0) == (
        (0, 1, 2),
    )


def test_a_legend_too_long_for_the_title_line_continues_under_it_in_order() -> None:
    widths = [126.0, 126.0, 93.5, 93.5, 119.5, 119.5]  # the arrivals chart's six series

    rows = legend_rows(widths, right=628.0, first_row_left=370.0, left=58.0)

    assert rows == ((0, 1), (2, 3, 4, 5))
    assert sum(widths[i] for i in rows[0]) <= 628.0 - 370.0
