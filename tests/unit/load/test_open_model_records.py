"""Corrected latency, arrival counting and generator health: the open model's bookkeeping."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from peakday.load.health import GeneratorLimits, generator_problems, load_health
from peakday.load.histograms import decode_histogram, summarize
from peakday.load.metricsfile import (
    GeneratorSample,
    format_record,
    generator_record,
    parse_metrics_jsonl,
)
from peakday.load.records import (
    ArrivalRecorder,
    ArrivalSecond,
    StepSecondRecorder,
    merge_arrivals,
    merge_by_key,
)
from peakday.load.timeline import timeline_from_records


def test_corrected_latency_adds_the_journey_start_delay_and_keeps_the_uncorrected() -> None:
    recorder = StepSecondRecorder(open_model=True)
    recorder.record(3, "login", latency_us=20_000, failure=None, start_delay_us=0)
    recorder.record(3, "login", latency_us=20_000, failure=None, start_delay_us=2_980_000)

    (record,) = recorder.drain_all()

    corrected = decode_histogram(record.histogram_b64)
    uncorrected = decode_histogram(record.uncorrected_histogram_b64)
    assert corrected.get_max_value() == corrected.get_highest_equivalent_value(3_000_000)
    assert uncorrected.get_max_value() == uncorrected.get_highest_equivalent_value(20_000)
    assert corrected.get_total_count() == uncorrected.get_total_count() == record.requests == 2


def test_closed_model_records_one_histogram_only() -> None:
    recorder = StepSecondRecorder()
    recorder.record(0, "login", 5_000, None)

    (record,) = recorder.drain_all()

    assert record.uncorrected_histogram_b64 == ""
    assert "uncorrected_histogram_b64" not in record.to_json_dict()
    assert record.uncorrected_b64() == record.histogram_b64


@settings(max_examples=40, deadline=None)
@given(
    requests=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=5_000_000),
            st.integers(min_value=0, max_value=9_000_000),
        ),
        min_size=1,
        max_size=60,
    ),
    cut=st.integers(min_value=0, max_value=60),
)
def test_split_open_model_records_merge_to_the_same_two_series(
    requests: list[tuple[int, int]], cut: int
) -> None:
    whole, first, second = (StepSecondRecorder(open_model=True) for _ in range(3))
    for index, (latency_us, delay_us) in enumerate(requests):
        whole.record(1, "checkout", latency_us, None, delay_us)
        (first if index < cut else second).record(1, "checkout", latency_us, None, delay_us)
    parts = first.drain_all() + second.drain_all()

    (merged,) = merge_by_key(parts).values()
    (expected,) = whole.drain_all()

    for mine, theirs in (
        (merged.histogram_b64, expected.histogram_b64),
        (merged.uncorrected_b64(), expected.uncorrected_b64()),
    ):
        assert summarize(decode_histogram(mine)) == summarize(decode_histogram(theirs))


def test_timeline_rows_carry_both_series_and_throughput() -> None:
    recorder = StepSecondRecorder(open_model=True)
    for delay_us in (0, 0, 0, 3_000_000):
        recorder.record(7, "login", 10_000, None, delay_us)
    records = [record.to_json_dict() for record in recorder.drain_all()]

    (row,) = timeline_from_records(records)

    assert row.throughput_rps == 4.0
    assert row.max_ms is not None and row.max_ms >= 3_000
    assert row.uncorrected_max_ms is not None and row.uncorrected_max_ms < 11
    assert row.uncorrected_histogram


def test_arrivals_count_planned_late_and_never_started_journeys() -> None:
    recorder = ArrivalRecorder()
    for _ in range(3):
        recorder.planned(2, "Shopper")
    recorder.started(2, "Shopper", delay_ms=1.0, late=False)
    recorder.started(2, "Shopper", delay_ms=900.0, late=True)
    recorder.not_started(2, "Shopper")

    (arrival,) = recorder.drain_all()

    assert arrival == ArrivalSecond(2, "Shopper", 3, 2, 1, 1, 900.0)
    assert ArrivalSecond.from_json_dict(arrival.to_json_dict()) == arrival


def test_arrival_parts_merge_by_adding_counts_and_keeping_the_worst_delay() -> None:
    parts = [
        ArrivalSecond(1, "Shopper", 2, 2, 0, 0, 3.0),
        ArrivalSecond(1, "Shopper", 1, 1, 1, 0, 50.0),
    ]

    assert list(merge_arrivals(parts).values()) == [ArrivalSecond(1, "Shopper", 3, 3, 1, 0, 50.0)]


def _samples(
    cpu: list[float], lag_ms: float = 1.0, process: str = "locust"
) -> list[GeneratorSample]:
    return [GeneratorSample(1000.0 + i, c, lag_ms, 10, process) for i, c in enumerate(cpu)]


def test_a_short_cpu_burst_is_fine_but_sustained_saturation_is_not() -> None:
    limits = GeneratorLimits(max_cpu_percent=90, cpu_sustained_s=3, max_lag_ms=250)

    assert generator_problems(_samples([95, 95, 95, 20, 95]), limits) == ()
    (problem,) = generator_problems(_samples([20, 95, 96, 97, 99, 20]), limits)
    assert "'locust'" in problem and "4 s in a row" in problem


def test_event_loop_lag_over_the_bound_is_a_problem_per_process() -> None:
    samples = _samples([10, 10], lag_ms=400.0, process="worker-1") + _samples([10, 10])

    (problem,) = generator_problems(samples)

    assert "'worker-1'" in problem and "400 ms late" in problem


def test_load_health_from_metrics_records_marks_an_untrusted_run() -> None:
    text = "".join(
        format_record(record)
        for record in [
            *(generator_record(sample) for sample in _samples([99] * 6)),
            ArrivalSecond(0, "Shopper", 10, 9, 2, 1, 120.0).to_json_dict(),
        ]
    )
    records = [__import__("json").loads(line) for line in text.splitlines()]
    assert parse_metrics_jsonl(text).arrivals == (ArrivalSecond(0, "Shopper", 10, 9, 2, 1, 120.0),)

    health = load_health("open", records, load_started_wall=1000.0)

    assert not health.trusted and health.reasons
    assert (health.planned_journeys, health.late_starts, health.not_started) == (10, 2, 1)
    assert health.generator[0].t_s == 0.0
