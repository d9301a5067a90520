"""Latency over many seconds: merge the rows' histograms, never average their percentiles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hdrh.histogram import HdrHistogram

from peakday.load.histograms import empty_histogram, merge_histograms, percentile_ms
from peakday.results.model import TimelineRow

PERCENTILE_OF_METRIC: dict[str, float] = {
    "p50": 50.0,
    "p90": 90.0,
    "p95": 95.0,
    "p99": 99.0,
    "p999": 99.9,
    "max": 100.0,
}


def latency_ms_from_rows(
    rows: Sequence[TimelineRow], metric: str, *, uncorrected: bool = False
) -> float | None:
    """The metric over the rows' merged histograms: corrected (from each request's intended
    start) by default, or, in the open model, `uncorrected` (from the actual send)."""
    encoded = (r.uncorrected_histogram if uncorrected else r.histogram for r in rows)
    return latency_ms_of(merge_histograms(h for h in encoded if h), metric)


def merged_latency_ms(histograms: Iterable[HdrHistogram], metric: str) -> float | None:
    """The metric over already decoded histograms (rolling windows decode each second once)."""
    merged = empty_histogram()
    for histogram in histograms:
        merged.add(histogram)
    return latency_ms_of(merged, metric)


def latency_ms_of(merged: HdrHistogram, metric: str) -> float | None:
    if metric == "max":
        return merged.get_max_value() / 1000.0 if merged.get_total_count() else None
    return percentile_ms(merged, PERCENTILE_OF_METRIC[metric])
