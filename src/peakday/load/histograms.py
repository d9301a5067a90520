"""HdrHistogram math for latencies: encode, decode, merge exactly, and read percentiles (pure).

No Locust, no gevent, no I/O, so the orchestrator and scoring can import it. Percentiles are always
read from (merged) histograms, never averaged.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Final

from hdrh.histogram import HdrHistogram

LOWEST_TRACKABLE_US: Final = 1
HIGHEST_TRACKABLE_US: Final = 3_600_000_000  # one hour
SIGNIFICANT_DIGITS: Final = 3


def empty_histogram() -> HdrHistogram:
    """A latency histogram in microseconds: 1 us .. 1 h at 3 significant digits."""
    return HdrHistogram(LOWEST_TRACKABLE_US, HIGHEST_TRACKABLE_US, SIGNIFICANT_DIGITS)


def latency_us_from_ms(response_time_ms: float) -> int:
    """Locust reports milliseconds as a float; histograms count whole microseconds."""
    return max(0, round(response_time_ms * 1000.0))


def encode_histogram(histogram: HdrHistogram) -> str:
    """The compressed, base64 HdrHistogram V2 form ('HISTF...')."""
    encoded: bytes = histogram.encode()
    return encoded.decode("ascii")


def decode_histogram(histogram_b64: str) -> HdrHistogram:
    try:
        histogram: HdrHistogram = HdrHistogram.decode(histogram_b64)
    except Exception as error:  # hdrh raises TypeError, zlib.error and its own cookie errors
        raise ValueError(f"cannot decode histogram {histogram_b64[:40]!r}: {error}") from error
    return histogram


def merge_histograms(encoded: Iterable[str]) -> HdrHistogram:
    """Add encoded histograms into one; counts add exactly, so percentiles stay exact-to-HDR."""
    merged = empty_histogram()
    for histogram_b64 in encoded:
        merged.add(decode_histogram(histogram_b64))
    return merged


@dataclass(frozen=True)
class LatencySummary:
    """Percentiles in milliseconds (HDR highest-equivalent values, so never under-reported)."""

    count: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float


_SUMMARY_PERCENTILES: Final = (50.0, 90.0, 95.0, 99.0, 99.9)


def percentile_ms(histogram: HdrHistogram, percentile: float) -> float | None:
    """The value at `percentile` (0..100) in ms, or None for an empty histogram."""
    if histogram.get_total_count() == 0:
        return None
    value_us: int = histogram.get_value_at_percentile(percentile)
    return value_us / 1000.0


def values_at_percentiles_us(histogram: HdrHistogram, percentiles: Sequence[float]) -> list[int]:
    """The values (us) at `percentiles` (each in (0, 100]), the same as HdrHistogram's
    `get_percentile_to_value_dict` gives: the highest equivalent value of the first counts index
    where the running total reaches each percentile's target count. hdrh finds those indices
    with a Python loop over every index up to the highest (thousands per histogram: most of a
    long run's assembly time); here the running total is summed in C (`accumulate`) over the
    indices from the minimum's to the maximum's, and each index found by bisection. When those
    indices do not hold every count, or a percentile is out of that range, hdrh's walk answers.
    """
    end = min(histogram.counts_len, histogram.encoder.payload.counts_len)  # as hdrh reads
    total: int = histogram.total_count
    if total > 0 and histogram.min_value <= histogram.max_value and min(percentiles) > 0:
        low = min(end, max(0, histogram._counts_index_for(histogram.min_value)))
        high = min(end, histogram._counts_index_for(histogram.max_value) + 1)
        running = list(accumulate(histogram.counts[low:high]))
        if running and running[-1] == total:  # counts are never negative: no count outside
            values = []
            for percentile in percentiles:
                index = low + bisect_left(
                    running, histogram.get_target_count_at_percentile(percentile)
                )
                value: int = histogram.get_highest_equivalent_value(
                    histogram.get_value_from_index(index)
                )
                values.append(value)
            return values
    found: dict[float, int] = histogram.get_percentile_to_value_dict(list(percentiles))
    return [found[p] for p in percentiles]


def summarize(histogram: HdrHistogram) -> LatencySummary | None:
    """p50/p90/p95/p99/p99.9/max in ms in one pass over the counts; None when empty."""
    count: int = histogram.get_total_count()
    if count == 0:
        return None
    values_us = values_at_percentiles_us(histogram, _SUMMARY_PERCENTILES)
    p50, p90, p95, p99, p999 = (value_us / 1000.0 for value_us in values_us)
    max_ms = histogram.get_max_value() / 1000.0
    return LatencySummary(count, p50, p90, p95, p99, p999, max_ms)
