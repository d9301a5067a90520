from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peakday.load.shapes import (
    RETAIL_DAY_CURVE,
    WeightedRotation,
    arrival_offsets,
    constant_points,
    expected_arrivals,
    level_at,
    peak_day_points,
    spike_points,
    stages_points,
)


def test_constant_rate_starts_journeys_evenly_from_zero() -> None:
    offsets = list(arrival_offsets(constant_points(4.0, 2.0)))

    assert offsets == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0])


def test_ramping_rate_arrivals_follow_the_integral() -> None:
    points = stages_points(0.0, [(10.0, 10.0)], 10.0, ramp=True)  # rate = t journeys/s

    offsets = list(arrival_offsets(points))

    # The integral is t^2 / 2, so journey j starts at sqrt(2 j).
    assert offsets == pytest.approx([math.sqrt(2 * j) for j in range(51)])


@settings(max_examples=60, deadline=None)
@given(
    levels=st.lists(st.floats(min_value=0.0, max_value=50.0), min_size=2, max_size=6),
    duration_s=st.floats(min_value=1.0, max_value=30.0),
)
def test_arrivals_by_any_time_match_the_integral_within_one(
    levels: list[float], duration_s: float
) -> None:
    step = duration_s / (len(levels) - 1)
    points = tuple((i * step, level) for i, level in enumerate(levels))

    offsets = list(arrival_offsets(points))

    assert offsets == sorted(offsets)
    for t_s in (duration_s / 3, duration_s / 2, duration_s):
        started = sum(1 for offset in offsets if offset <= t_s)
        assert abs(started - expected_arrivals(points, t_s)) <= 1.0 + 1e-6


@pytest.mark.parametrize("slots", [2, 3, 5])
def test_slots_split_one_schedule_without_losing_or_repeating_a_journey(slots: int) -> None:
    points = spike_points(5.0, 2.0, 2.0, 3.0, 0.5, 8.0)
    whole = list(arrival_offsets(points))

    parts = [list(arrival_offsets(points, every=slots, first=slot)) for slot in range(slots)]

    assert sorted(itertools.chain.from_iterable(parts)) == pytest.approx(whole)


def test_step_stages_jump_and_hold() -> None:
    points = stages_points(10.0, [(5.0, 20.0), (8.0, 5.0)], 10.0, ramp=False)

    assert [level_at(points, t) for t in (0.0, 4.9, 5.0, 7.9, 8.0, 9.9)] == [
        20.0,
        20.0,
        5.0,
        5.0,
        5.0,
        5.0,
    ]


def test_ramped_stages_interpolate_and_hold_the_last_target() -> None:
    points = stages_points(10.0, [(10.0, 30.0)], 20.0, ramp=True)

    assert level_at(points, 0.0) == 10.0
    assert level_at(points, 5.0) == pytest.approx(20.0)
    assert level_at(points, 15.0) == 30.0


def test_spike_rises_holds_and_returns() -> None:
    points = spike_points(10.0, at_s=20.0, hold_s=5.0, multiple=3.0, ramp_s=1.0, duration_s=40.0)

    assert level_at(points, 10.0) == 10.0
    assert level_at(points, 20.5) == pytest.approx(20.0)
    assert level_at(points, 23.0) == 30.0
    assert level_at(points, 26.5) == pytest.approx(20.0)
    assert level_at(points, 30.0) == 10.0


@pytest.mark.parametrize("peak_at_s", [0.0, 7.5, 30.0, 59.0, 60.0])
def test_peak_day_puts_its_busiest_moment_at_peak_at(peak_at_s: float) -> None:
    points = peak_day_points(peak_level=150.0, peak_at_s=peak_at_s, duration_s=60.0)
    samples = [i * 0.05 for i in range(1201)]

    levels = [level_at(points, t) for t in samples]

    assert max(levels) == pytest.approx(150.0)
    assert level_at(points, peak_at_s) == pytest.approx(150.0)  # a day wraps: 0 s is 60 s
    assert min(levels) == pytest.approx(150.0 * min(RETAIL_DAY_CURVE), rel=0.01)


def test_peak_day_compresses_a_whole_day_into_the_run() -> None:
    points = peak_day_points(peak_level=1.0, peak_at_s=20.0, duration_s=24.0)

    # One curve point per second: the hour after the peak (21:00) is a second later.
    assert level_at(points, 21.0) == pytest.approx(RETAIL_DAY_CURVE[21])
    assert level_at(points, 20.0 - 20.0) == pytest.approx(RETAIL_DAY_CURVE[0])


def test_weighted_rotation_is_exact_per_cycle_and_spread() -> None:
    rotation = WeightedRotation({"Shopper": 6, "Merchant": 2, "PosTerminal": 2, "Off": 0})

    first = [rotation.next() for _ in range(10)]

    assert Counter(first) == {"Shopper": 6, "Merchant": 2, "PosTerminal": 2}
    assert "ShopperShopperShopper" not in "".join(first)  # smooth, not in runs
    with pytest.raises(ValueError, match="above 0"):
        WeightedRotation({"Off": 0})
