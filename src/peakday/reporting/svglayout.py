"""Where chart text goes (pure): fault-window labels in rows, so neighbours never overlap.

SVG has no text layout, and the report has no script to measure text, so widths are estimated
from the character count. The estimate errs wide: a label may get a row it did not strictly
need, but two labels never print over each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Average advance of a sans-serif character, as a share of the font size, rounded up: system-ui
# and DejaVu Sans average about 0.52 for lowercase names with hyphens.
CHAR_WIDTH_EM = 0.6
ELLIPSIS = "…"


def text_width(text: str, font_px: float) -> float:
    """The estimated width of `text` at `font_px`, in the same units as the font size."""
    return len(text) * font_px * CHAR_WIDTH_EM


@dataclass(frozen=True)
class PlacedLabel:
    """A label as drawn: in which row, from where, and how much of it."""

    text: str  # what is printed: the label, or its start and an ellipsis (may be empty)
    full_text: str
    x: float
    row: int  # 0 is the row a lone label gets; each further row sits one line further out
    width: float  # the estimated extent of `text`

    @property
    def end(self) -> float:
        return self.x + self.width

    @property
    def truncated(self) -> bool:
        return self.text != self.full_text


def truncate_to(text: str, width: float, font_px: float) -> str:
    """`text` cut, with an ellipsis, to fit `width`; the whole text when it fits, "" if nothing
    but the ellipsis would fit."""
    if text_width(text, font_px) <= width:
        return text
    keep = int(width // (font_px * CHAR_WIDTH_EM)) - 1
    return text[:keep].rstrip() + ELLIPSIS if keep >= 1 else ""


def _collides(a_start: float, a_end: float, b: PlacedLabel, gap: float) -> bool:
    return a_start < b.end + gap and b.x < a_end + gap


def _shorten(label: PlacedLabel, end: float, font_px: float) -> PlacedLabel:
    text = truncate_to(label.full_text, max(0.0, end - label.x), font_px)
    return PlacedLabel(text, label.full_text, label.x, label.row, text_width(text, font_px))


def place_labels(
    labels: Sequence[tuple[float, str]],
    *,
    font_px: float,
    right: float,
    gap: float = 4.0,
    max_rows: int = 3,
) -> tuple[PlacedLabel, ...]:
    """Each (x, text) label in the lowest row where its extent misses every other label's.

    Labels keep their x (the start of their window) and come back in the order given. A label
    that would run past `right` is cut there; when all `max_rows` rows are taken at its x, it
    goes to the row that frees up first and the label it runs into is cut short before it.
    """
    placed: list[PlacedLabel | None] = [None] * len(labels)
    order = sorted(range(len(labels)), key=lambda i: labels[i][0])
    for index in order:
        x, full_text = labels[index]
        text = truncate_to(full_text, right - x, font_px)
        end = x + text_width(text, font_px)
        others = [p for p in placed if p is not None]
        free = [
            row
            for row in range(max_rows)
            if not any(p.row == row and _collides(x, end, p, gap) for p in others)
        ]
        if free:
            row = free[0]
        else:
            # Every row is taken here: use the one whose label in the way ends first.
            row = min(
                range(max_rows),
                key=lambda r: max(
                    p.end for p in others if p.row == r and _collides(x, end, p, gap)
                ),
            )
            for i, other in enumerate(placed):
                if other is not None and other.row == row and _collides(x, end, other, gap):
                    placed[i] = _shorten(other, x - gap, font_px)
        placed[index] = PlacedLabel(text, full_text, x, row, end - x)
    return tuple(p for p in placed if p is not None)


def rows_used(labels: Sequence[PlacedLabel]) -> int:
    """How many label rows the chart needs: at least one, as before labels had rows."""
    return max((label.row for label in labels), default=0) + 1


def legend_rows(
    widths: Sequence[float], *, right: float, first_row_left: float, left: float
) -> tuple[tuple[int, ...], ...]:
    """Legend items (by index, in order) per row, each row right-aligned at `right`.

    The first row shares its line with the chart title and must stay right of `first_row_left`
    (the title's end); further rows go under it and may reach `left`. Everything on one row
    when it fits, as legends always were.
    """
    rows: list[list[int]] = [[]]
    used = 0.0
    for index, width in enumerate(widths):
        limit = right - (first_row_left if len(rows) == 1 else left)
        if rows[-1] and used + width > limit:
            rows.append([])
            used = 0.0
        rows[-1].append(index)
        used += width
    return tuple(tuple(row) for row in rows if row)
