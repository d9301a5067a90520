"""`values_at_percentiles_us` gives exactly what HdrHistogram's own percentile walk gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from peakday.load.histograms import (
    HIGHEST_TRACKABLE_US,
    decode_histogram,
    empty_histogram,
    encode_histogram,
    merge_histograms,
    values_at_percentiles_us,
)

PERCENTILES = [50.0, 90.0, 95.0, 99.0, 99.9, 100.0]
latencies = st.lists(
    st.one_of(
        st.integers(0, 2_000),
        st.integers(0, 5_000_000),
        st.integers(HIGHEST_TRACKABLE_US - 10, HIGHEST_TRACKABLE_US),
    ),
    min_size=1,
    max_size=300,
)


def hdrh_walk(histogram: object, percentiles: list[float]) -> list[int]:
    found = histogram.get_percentile_to_value_dict(percentiles)  # type: ignore[attr-defined]
    return [found[p] for p in percentiles]


@settings(max_examples=300, deadline=None)
@given(latencies, latencies)
def test_the_values_of_hdrh_s_walk_for_recorded_decoded_and_merged_histograms(
    first: list[int], second: list[int]
) -> None:
    recorded = empty_histogram()
    for value in first:
        recorded.record_value(value)
    other = empty_histogram()
    for value in second:
        other.record_value(value)
    decoded = decode_histogram(encode_histogram(recorded))
    merged = merge_histograms([encode_histogram(recorded), encode_histogram(other)])
    for histogram in (recorded, decoded, merged):
        assert values_at_percentiles_us(histogram, PERCENTILES) == hdrh_walk(histogram, PERCENTILES)
