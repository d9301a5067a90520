"""How numbers read in every report (terminal, HTML, Markdown, JUnit): one place, one spelling."""

from __future__ import annotations

from collections.abc import Sequence

SPARK_CHARS = "▁▂▃▄▅▆▇█"


def format_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, indent: str = "", rule: bool = False
) -> str:
    """Plain-text columns, left-aligned and two spaces apart, no trailing spaces.

    `rule` puts a line of dashes under the header; `indent` starts every line.
    """
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()

    under = ["  ".join("-" * w for w in widths)] if rule else []
    return "\n".join(indent + text for text in [line(header), *under, *map(line, rows)])


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def format_ms_tick(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g} s"
    return f"{value:g} ms"


def format_percent_tick(value: float) -> str:
    return f"{value:g}%"


def format_rps_tick(value: float) -> str:
    return f"{value:g}"


def format_score(score: float | None) -> str:
    return "—" if score is None else f"{score:.0f}/100"


def sparkline(values: list[float | None]) -> str:
    """Unicode block sparkline; gaps (None) are spaces. Reads in terminals and Markdown alike."""
    present = [v for v in values if v is not None]
    if not present:
        return ""
    low, high = min(present), max(present)
    span = high - low
    chars = []
    for value in values:
        if value is None:
            chars.append(" ")
        elif span <= 0:
            chars.append(SPARK_CHARS[0])
        else:
            chars.append(SPARK_CHARS[round((value - low) / span * (len(SPARK_CHARS) - 1))])
    return "".join(chars)


def downsample(values: list[float | None], buckets: int) -> list[float | None]:
    """At most `buckets` values, each the largest of its slice (peaks are what matter here)."""
    if len(values) <= buckets:
        return values
    out: list[float | None] = []
    for i in range(buckets):
        chunk = values[i * len(values) // buckets : (i + 1) * len(values) // buckets]
        present = [v for v in chunk if v is not None]
        out.append(max(present) if present else None)
    return out
