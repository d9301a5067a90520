"""Long-run chart series: a fixed number of points, peaks and gaps kept."""

from __future__ import annotations

from peakday.reporting.downsample import downsample
from peakday.reporting.svg import Chart, Series, render_chart


def _flat(seconds: int, value: float = 10.0) -> list[tuple[float, float | None]]:
    return [(float(t), value) for t in range(seconds)]


def test_short_series_are_left_as_they_are() -> None:
    points = [(0.0, 1.0), (1.0, None), (2.0, 3.0)]
    assert downsample(points, max_points=10) == tuple(points)


def test_an_eight_hour_series_gets_at_most_the_fixed_number_of_points() -> None:
    points = [(float(t), float(t % 7)) for t in range(8 * 3600)]
    assert len(downsample(points, max_points=600)) <= 600


def test_a_one_second_spike_survives() -> None:
    points = _flat(8 * 3600)
    points[12_345] = (12_345.0, 900.0)
    kept = downsample(points, max_points=600)
    assert (12_345.0, 900.0) in kept
    assert max(y for _, y in kept if y is not None) == 900.0


def test_a_one_second_dip_survives() -> None:
    points = _flat(8 * 3600, 100.0)
    points[20_000] = (20_000.0, 0.0)
    assert (20_000.0, 0.0) in downsample(points, max_points=600)


def test_points_stay_in_time_order() -> None:
    points = [(float(t), float((t * 37) % 101)) for t in range(10_000)]
    xs = [x for x, _ in downsample(points, max_points=200)]
    assert xs == sorted(xs)


def test_a_bucket_with_no_data_stays_a_gap() -> None:
    points: list[tuple[float, float | None]] = _flat(10_000)
    for t in range(5_000, 5_500):  # 500 s without data: several whole buckets
        points[t] = (float(t), None)
    kept = downsample(points, max_points=200)
    assert any(y is None for _, y in kept)
    assert all(not 5_000 <= x < 5_500 for x, y in kept if y is not None)


def test_a_bucket_with_some_data_is_no_gap() -> None:
    points = [(float(t), None if t % 2 else 5.0) for t in range(10_000)]
    assert all(y is not None for _, y in downsample(points, max_points=200))


def test_the_html_chart_of_a_long_run_is_small_and_keeps_its_spike() -> None:
    points = _flat(8 * 3600)
    points[7_777] = (7_777.0, 500.0)
    chart = Chart(
        title="p95",
        series=(Series("p95", tuple(points), "#000"),),
        x_max=8 * 3600.0,
        y_format=str,
    )
    svg = str(render_chart(chart))
    assert len(svg) < 20_000
    # the spike is the highest point drawn: the top of the y axis
    assert "500" in svg
