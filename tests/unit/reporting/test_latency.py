from __future__ import annotations

import dataclasses

import pytest

from peakday.load.histograms import merge_histograms, percentile_ms
from peakday.reporting.latency import P99Pair, correction_table, format_pair, shows_uncorrected
from peakday.results.model import Result
from peakday.scoring.phases import rows_in


def test_closed_model_runs_have_nothing_to_compare(smoke_result: Result) -> None:
    assert not shows_uncorrected(smoke_result)
    assert correction_table(smoke_result) is None


def test_open_model_without_uncorrected_data_has_nothing_to_compare(
    open_model_result: Result,
) -> None:
    stripped = tuple(
        dataclasses.replace(row, uncorrected_histogram="", uncorrected_p99_ms=None)
        for row in open_model_result.timeline
    )
    result = open_model_result.model_copy(update={"timeline": stripped})

    assert correction_table(result) is None


def test_p99_per_phase_comes_from_the_merged_histograms_of_each_series(
    open_model_result: Result,
) -> None:
    table = correction_table(open_model_result)

    assert table is not None
    assert table.steps == ("checkout", "label", "login", "pos_checkout")
    assert [p.phase for p in table.phases] == ["baseline", "fault:login-latency", "recovery", "all"]
    fault = next(p for p in open_model_result.phases if p.name == "fault:login-latency")
    rows = rows_in(open_model_result.timeline, "checkout", (fault,))
    checkout_in_fault = table.phases[1].cells[0]
    assert checkout_in_fault.corrected_ms == percentile_ms(
        merge_histograms(r.histogram for r in rows), 99.0
    )
    assert checkout_in_fault.uncorrected_ms == percentile_ms(
        merge_histograms(r.uncorrected_histogram for r in rows), 99.0
    )


def test_the_generator_queue_shows_in_corrected_latency_only(open_model_result: Result) -> None:
    table = correction_table(open_model_result)

    assert table is not None
    baseline, fault = table.phases[0], table.phases[1]
    assert len(baseline.cells) == len(fault.cells) == len(table.steps) == 4
    # Journeys started on time in the baseline: the two series agree, and both were measured.
    for step, cell in zip(table.steps, baseline.cells, strict=True):
        assert cell.corrected_ms is not None, step
        assert cell.corrected_ms == cell.uncorrected_ms, step
    # Up to 1.4 s late during the fault: corrected is far above uncorrected for every step.
    for step, cell in zip(table.steps, fault.cells, strict=True):
        assert cell.corrected_ms is not None and cell.uncorrected_ms is not None, step
        assert cell.corrected_ms > cell.uncorrected_ms + 1000, step


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        (P99Pair(2097.151, 83.647), "2097.2 ms / 83.6 ms"),
        (P99Pair(12.0, None), "12.0 ms / —"),
        (P99Pair(None, None), "—"),
    ],
    ids=["both", "one", "none"],
)
def test_pairs_read_corrected_then_uncorrected(pair: P99Pair, expected: str) -> None:
    assert format_pair(pair) == expected
