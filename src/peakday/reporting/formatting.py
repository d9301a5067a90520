"""How numbers read in every report (terminal, HTML, Markdown, JUnit): one place, one spelling."""

from __future__ import annotations

SPARK_CHARS = "▁▂▃▄▅▆▇█"


def format_measure(value: float | None, unit: str) -> str:
    """A measured SLO value in its unit: '47.9 ms', '99.50%', '12.3 req/s', or '—' for none."""
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "req/s":
        return f"{value:.1f} req/s"
    return f"{value:g} {unit}".strip()


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
