"""Load shapes as pure functions of elapsed time, and open-model arrival times (pure).

Every shape compiles to piecewise-linear points (t_s, level) over the run, where the level is in
the load model's unit: users (closed model) or journeys per second (open model). Two points at the
same time make a step. Arrival times come from inverting the integral of the rate, so they are
exact for ramps too (as k6's ramping-arrival-rate executor plans them).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Final

Point = tuple[float, float]

# A retail day, relative to its busiest hour (00:00 .. 23:00): quiet nights, a lunch bump and an
# evening peak at 20:00. Hourly points, linear in between; the curve is a day, so it wraps.
RETAIL_DAY_CURVE: Final[tuple[float, ...]] = (
    0.25, 0.18, 0.13, 0.10, 0.10, 0.13, 0.22, 0.35, 0.50, 0.60, 0.66, 0.70,
    0.74, 0.72, 0.70, 0.70, 0.72, 0.78, 0.87, 0.95, 1.00, 0.92, 0.70, 0.45,
)  # fmt: skip


def constant_points(level: float, duration_s: float) -> tuple[Point, ...]:
    return ((0.0, level), (duration_s, level))


def stages_points(
    start_level: float,
    stages: Sequence[tuple[float, float]],
    duration_s: float,
    ramp: bool,
) -> tuple[Point, ...]:
    """Stages (until_s, target): ramp linearly from the previous target to each target by its
    `until_s` when `ramp`, else jump to the target at the previous stage's end and hold it.
    The last target holds until the end of the run."""
    points: list[Point] = [(0.0, start_level)]
    previous_until, previous_level = 0.0, start_level
    for until_s, target in stages:
        until_s = min(until_s, duration_s)
        if until_s <= previous_until:
            continue
        if not ramp:
            points.append((previous_until, target))
        points.append((until_s, target))
        previous_until, previous_level = until_s, target
    if previous_until < duration_s:
        points.append((duration_s, previous_level))
    return tuple(points)


def spike_points(
    base: float, at_s: float, hold_s: float, multiple: float, ramp_s: float, duration_s: float
) -> tuple[Point, ...]:
    """`base`, rising over `ramp_s` from `at_s` to `base * multiple`, held `hold_s`, then back
    down over `ramp_s`; cut at the end of the run."""
    peak = base * multiple
    corners = [
        (0.0, base),
        (at_s, base),
        (at_s + ramp_s, peak),
        (at_s + ramp_s + hold_s, peak),
        (at_s + 2 * ramp_s + hold_s, base),
        (max(duration_s, at_s + 2 * ramp_s + hold_s), base),
    ]
    return clip_points(corners, duration_s)


def peak_day_points(
    peak_level: float,
    peak_at_s: float,
    duration_s: float,
    curve: Sequence[float] = RETAIL_DAY_CURVE,
) -> tuple[Point, ...]:
    """A day's curve compressed into the run, scaled so its busiest point is `peak_level` and
    shifted so that busiest point falls at `peak_at_s`."""
    if not curve or max(curve) <= 0:
        raise ValueError(f"a day curve needs a point above 0, got {list(curve)!r}")
    top = max(curve)
    peak_index = curve.index(top)
    slots = len(curve)
    slot_s = duration_s / slots  # one curve point per slot; the run is one whole day
    first = math.floor((0.0 - peak_at_s) / slot_s) - 1
    last = math.ceil((duration_s - peak_at_s) / slot_s) + 1
    points = [
        (peak_at_s + k * slot_s, peak_level * curve[(peak_index + k) % slots] / top)
        for k in range(first, last + 1)
    ]
    return clip_points(points, duration_s)


def clip_points(points: Sequence[Point], duration_s: float) -> tuple[Point, ...]:
    """The same piecewise-linear function restricted to [0, duration_s]."""
    clipped = [(0.0, level_at(points, 0.0))]
    clipped += [(t, level) for t, level in points if 0.0 < t < duration_s]
    clipped.append((duration_s, level_at(points, duration_s)))
    return tuple(clipped)


def level_at(points: Sequence[Point], t_s: float) -> float:
    """The level at `t_s`: linear between points; at a step (two points at one time) the later
    one; held flat before the first and after the last point."""
    if not points:
        return 0.0
    times = [t for t, _ in points]
    index = bisect.bisect_right(times, t_s)
    if index == 0:
        return points[0][1]
    if index == len(points):
        return points[-1][1]
    (t0, level0), (t1, level1) = points[index - 1], points[index]
    if t1 <= t0:
        return level1
    return level0 + (level1 - level0) * (t_s - t0) / (t1 - t0)


def _segments(points: Sequence[Point]) -> Iterator[tuple[float, float, float, float]]:
    for (t0, level0), (t1, level1) in itertools.pairwise(points):
        if t1 > t0:
            yield t0, t1, max(0.0, level0), max(0.0, level1)


def expected_arrivals(points: Sequence[Point], until_s: float) -> float:
    """The integral of the rate from 0 to `until_s`: how many journeys should have started."""
    total = 0.0
    for t0, t1, rate0, rate1 in _segments(points):
        if until_s <= t0:
            break
        end = min(t1, until_s)
        rate_end = rate0 + (rate1 - rate0) * (end - t0) / (t1 - t0)
        total += (rate0 + rate_end) / 2 * (end - t0)
    return total


def arrival_offsets(points: Sequence[Point], every: int = 1, first: int = 0) -> Iterator[float]:
    """Planned start times (seconds after load start) of journeys `first`, `first + every`, ...

    Journey j starts when the integral of the rate reaches j, so journey 0 starts at once.
    `every`/`first` split one schedule between generator processes without bunching them.
    """
    done = 0.0  # integral up to the start of the current segment
    index = first
    for t0, t1, rate0, rate1 in _segments(points):
        slope = (rate1 - rate0) / (t1 - t0)
        area = (rate0 + rate1) / 2 * (t1 - t0)
        while index <= done + area:
            need = index - done
            if abs(slope) < 1e-12:
                if rate0 <= 0:
                    break
                dt = need / rate0
            else:
                root = rate0 * rate0 + 2 * slope * need
                dt = (-rate0 + math.sqrt(max(0.0, root))) / slope
            yield t0 + min(max(dt, 0.0), t1 - t0)
            index += every
        done += area


class WeightedRotation:
    """Smooth weighted round robin (nginx's): a deterministic, evenly spread class sequence."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        self._weights = {name: weight for name, weight in sorted(weights.items()) if weight > 0}
        if not self._weights:
            raise ValueError(f"at least one weight must be above 0, got {dict(weights)!r}")
        self._total = sum(self._weights.values())
        self._current = dict.fromkeys(self._weights, 0.0)

    def next(self) -> str:
        for name, weight in self._weights.items():
            self._current[name] += weight
        chosen = max(self._current, key=lambda name: self._current[name])
        self._current[chosen] -= self._total
        return chosen
