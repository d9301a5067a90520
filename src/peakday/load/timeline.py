"""Per-second, per-step timeline rows from the Locust plugin's metrics records (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from peakday.load.histograms import decode_histogram, summarize
from peakday.load.records import StepSecond, merge_by_key
from peakday.results.model import TimelineRow


def step_seconds(records: Iterable[Mapping[str, Any]]) -> list[StepSecond]:
    """The metrics records among everything the plugin wrote; malformed ones are skipped."""
    found = []
    for record in records:
        if record.get("kind") != "metrics":
            continue
        try:
            found.append(StepSecond.from_json_dict(record))
        except ValueError:
            continue
    return found


def row_from_step_second(merged: StepSecond) -> TimelineRow:
    summary = summarize(merged.histogram())
    uncorrected = (
        summarize(decode_histogram(merged.uncorrected_histogram_b64))
        if merged.uncorrected_histogram_b64
        else None
    )
    return TimelineRow(
        t_s=merged.t_s,
        name=merged.step,
        requests=merged.requests,
        failures=merged.failed,
        failures_by_kind={k: v for k, v in merged.failures.items() if v},
        p50_ms=summary.p50_ms if summary else None,
        p90_ms=summary.p90_ms if summary else None,
        p95_ms=summary.p95_ms if summary else None,
        p99_ms=summary.p99_ms if summary else None,
        p999_ms=summary.p999_ms if summary else None,
        max_ms=summary.max_ms if summary else None,
        out_of_range=merged.out_of_range,
        histogram=merged.histogram_b64,
        throughput_rps=float(merged.requests),  # one-second rows
        uncorrected_p50_ms=uncorrected.p50_ms if uncorrected else None,
        uncorrected_p90_ms=uncorrected.p90_ms if uncorrected else None,
        uncorrected_p95_ms=uncorrected.p95_ms if uncorrected else None,
        uncorrected_p99_ms=uncorrected.p99_ms if uncorrected else None,
        uncorrected_p999_ms=uncorrected.p999_ms if uncorrected else None,
        uncorrected_max_ms=uncorrected.max_ms if uncorrected else None,
        uncorrected_histogram=merged.uncorrected_histogram_b64,
    )


def timeline_from_records(records: Iterable[Mapping[str, Any]]) -> tuple[TimelineRow, ...]:
    """One row per (second, step), every partial record for that key merged exactly."""
    merged = merge_by_key(step_seconds(records))
    return tuple(row_from_step_second(record) for record in merged.values())
