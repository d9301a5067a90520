"""How far a measured value could be off by chance: 95% intervals for each metric (pure).

Used when a run is compared with a reference run, so that a difference smaller than the noise of
both runs is not reported as a regression (docs/scoring.md, "Noise").

- success_rate: Wilson score interval over the requests.
- latency percentiles: the distribution-free interval for a quantile, read off the merged
  HdrHistogram at the ranks n*p +/- 1.96*sqrt(n*p*(1-p)); `max` has no interval.
- rps: the mean of the per-second counts +/- 1.96 standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from peakday.load.histograms import merge_histograms
from peakday.results.model import Interval, PhaseWindow, TimelineRow
from peakday.scoring.phases import rows_in, seconds_of
from peakday.scoring.stats import PERCENTILE_OF_METRIC

Z_95 = 1.96


def success_interval(successes: int, requests: int) -> Interval | None:
    if requests <= 0:
        return None
    p = successes / requests
    z2 = Z_95 * Z_95
    centre = (p + z2 / (2 * requests)) / (1 + z2 / requests)
    half = (Z_95 / (1 + z2 / requests)) * math.sqrt(
        p * (1 - p) / requests + z2 / (4 * requests * requests)
    )
    return Interval(low=max(0.0, centre - half), high=min(1.0, centre + half))


def rank_bounds(count: int, quantile: float) -> tuple[int, int]:
    """1-based ranks bounding the quantile's 95% interval among `count` sorted samples."""
    mean = count * quantile
    spread = Z_95 * math.sqrt(count * quantile * (1 - quantile))
    low = max(1, math.floor(mean - spread))
    high = min(count, math.ceil(mean + spread) + 1)
    return low, high


def percentile_interval(rows: Sequence[TimelineRow], metric: str) -> Interval | None:
    merged = merge_histograms(r.histogram for r in rows if r.histogram)
    count: int = merged.get_total_count()
    if count == 0:
        return None
    if metric == "max":
        top = merged.get_max_value() / 1000.0
        return Interval(low=top, high=top)
    low_rank, high_rank = rank_bounds(count, PERCENTILE_OF_METRIC[metric] / 100.0)
    low = merged.get_value_at_percentile(100.0 * low_rank / count) / 1000.0
    high = merged.get_value_at_percentile(100.0 * high_rank / count) / 1000.0
    return Interval(low=low, high=high)


def rps_interval(
    rows: Sequence[TimelineRow], step: str, windows: Sequence[PhaseWindow]
) -> Interval | None:
    seconds = seconds_of(windows)
    if not seconds:
        return None
    counts = {t: 0 for t in seconds}
    for row in rows_in(rows, step, windows):
        if row.t_s in counts:
            counts[row.t_s] += row.requests
    values = list(counts.values())
    mean = sum(values) / len(values)
    if len(values) < 2:
        return Interval(low=mean, high=mean)
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    half = Z_95 * math.sqrt(variance / len(values))
    return Interval(low=max(0.0, mean - half), high=mean + half)


def interval_of(
    metric: str, step: str, rows: Sequence[TimelineRow], windows: Sequence[PhaseWindow]
) -> Interval | None:
    """The 95% interval of `metric` for `step` over the windows, or None without data."""
    if metric == "rps":
        return rps_interval(rows, step, windows)
    selected = rows_in(rows, step, windows)
    if metric == "success_rate":
        requests = sum(r.requests for r in selected)
        return success_interval(requests - sum(r.failures for r in selected), requests)
    if metric in PERCENTILE_OF_METRIC:
        return percentile_interval(selected, metric)
    return None
