"""Chart series of long runs cut to a fixed number of points, keeping every peak (pure).

A chart is a few hundred pixels wide: an 8-hour run's 28,800 seconds per line would make the page
large and slow while drawing nothing more. The x axis is cut into equal buckets and each bucket
keeps its lowest and highest value (in the order they happened), so a one-second spike or dip
stays on the chart. A bucket with no value at all stays a gap; short series are left as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

Point = tuple[float, float | None]

MAX_POINTS: Final = 600  # per series: two per bucket, about one bucket per two chart pixels


def downsample(points: Sequence[Point], max_points: int = MAX_POINTS) -> tuple[Point, ...]:
    """At most `max_points` points (plus gap markers): min and max of each bucket, in x order."""
    if len(points) <= max_points:
        return tuple(points)
    buckets = max(1, max_points // 2)
    first_x, last_x = points[0][0], points[-1][0]
    width = (last_x - first_x) / buckets or 1.0
    chosen: list[Point] = []
    bucket_points: list[tuple[float, float]] = []
    current = 0
    gap = False

    def flush() -> None:
        nonlocal gap
        if bucket_points:
            low = min(bucket_points, key=lambda p: p[1])
            high = max(bucket_points, key=lambda p: p[1])
            chosen.extend(sorted({low, high}))
        elif gap and (not chosen or chosen[-1][1] is not None):
            chosen.append((first_x + current * width, None))  # an empty bucket breaks the line
        bucket_points.clear()
        gap = False

    for x, y in points:
        index = min(buckets - 1, math.floor((x - first_x) / width))
        if index != current:
            flush()
            current = index
        if y is None:
            gap = True
        else:
            bucket_points.append((x, y))
    flush()
    return tuple(chosen)
