"""Measurement under faults, through the real CLI: open-model pacing and coordinated-omission
correction, a toxic reaching kept-alive connections within a second, and distributed Locust."""

from __future__ import annotations

import csv
import math
import textwrap
from pathlib import Path

import pytest

from integration.peakday_process import start_run
from peakday.load.histograms import merge_histograms, percentile_ms
from peakday.results.model import Result, TimelineRow

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STALL_AT_S, STALL_S = 10.0, 3.0
RATE_PER_S = 20.0
RunOutput = tuple[int, str, Result, Path]


def run_experiment(tmp_path: Path, name: str, yaml_text: str) -> RunOutput:
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(textwrap.dedent(yaml_text))
    run_dir = tmp_path / "run"
    run = start_run(["run", str(spec), "--no-color"], run_dir)
    code, out, err = run.wait(timeout_s=150)
    assert not run.survivors(), run.survivors()
    result = Result.model_validate_json((run_dir / "result.json").read_text())
    return code, out + err, result, run_dir


def merged_percentile_ms(rows: list[TimelineRow], percentile: float, corrected: bool) -> float:
    merged = merge_histograms(
        row.histogram if corrected else (row.uncorrected_histogram or row.histogram) for row in rows
    )
    value = percentile_ms(merged, percentile)
    assert value is not None
    return value


@pytest.fixture(scope="module")
def stall_run(tmp_path_factory: pytest.TempPathFactory) -> RunOutput:
    # Every checkout asks auth (via auth_introspect) whether its token is valid, so a stall there
    # holds every journey; with few users the pool runs dry and journeys start late.
    return run_experiment(
        tmp_path_factory.mktemp("stall"),
        "open-stall",
        f"""
        name: open-stall
        load:
          arrival_rate: {RATE_PER_S}
          max_concurrency: 12
          duration: 20s
          warmup: 3s
          journeys: {{shopper: 1}}
          request_timeout: 10s
        faults:
          - {{name: stall, at: {STALL_AT_S}s, duration: {STALL_S}s, proxy: auth_introspect,
              toxic: timeout, attributes: {{timeout: 0}}}}
        slos:
          - {{name: checkout-p90, request: checkout, metric: p90, objective: "< 5s", phase: all}}
        """,
    )


def test_open_model_plans_every_journey_and_counts_late_starts(stall_run: RunOutput) -> None:
    code, output, result, _ = stall_run
    assert code in (0, 1), output
    health = result.load_health
    assert health is not None and health.model == "open"
    assert abs(health.planned_journeys - RATE_PER_S * 20) <= 2
    assert health.late_starts > 0, "the stall should exhaust the 12 users"
    assert health.max_start_delay_ms > 1000
    started = sum(row.started for row in health.arrivals)
    assert started + health.not_started == health.planned_journeys


def test_corrected_latency_shows_the_stall_that_uncorrected_latency_hides(
    stall_run: RunOutput,
) -> None:
    _, _, result, _ = stall_run
    checkout = [row for row in result.timeline if row.name == "checkout"]
    assert all(row.uncorrected_histogram for row in checkout), "open model keeps both series"

    # Uncorrected, only the dozen requests the users had in flight were slow; corrected, so are
    # the journeys that should have started during the stall but found no free user.
    corrected = merged_percentile_ms(checkout, 90.0, corrected=True)
    uncorrected = merged_percentile_ms(checkout, 90.0, corrected=False)

    assert corrected >= 500 and corrected >= 5 * uncorrected, (corrected, uncorrected)
    after = [row for row in checkout if STALL_AT_S + 1 <= row.t_s < STALL_AT_S + STALL_S]
    assert after and max(row.max_ms or 0 for row in after) >= 1000


@pytest.fixture(scope="module")
def keep_alive_run(tmp_path_factory: pytest.TempPathFactory) -> RunOutput:
    # Merchants and tills log in every few journeys, on connections they keep alive.
    return run_experiment(
        tmp_path_factory.mktemp("onset"),
        "toxic-onset",
        """
        name: toxic-onset
        load:
          arrival_rate: 30
          max_concurrency: 40
          duration: 16s
          warmup: 3s
          connections: keep-alive
          journeys: {merchant: 1, pos: 1}
        faults:
          - {name: slow-login, at: 8s, duration: 4s, proxy: auth_login, toxic: latency,
             attributes: {latency: 300}}
        """,
    )


def test_a_toxic_added_mid_run_reaches_kept_alive_connections_within_one_second(
    keep_alive_run: RunOutput,
) -> None:
    _, output, result, _ = keep_alive_run
    (fault,) = result.faults
    assert fault.applied_at_s is not None, output
    logins = {row.t_s: row for row in result.timeline if row.name == "login"}
    first_full_second = math.ceil(fault.applied_at_s)
    within = [logins[t] for t in (first_full_second, first_full_second + 1) if t in logins]

    assert within, sorted(logins)
    # Every login starting a second after the toxic was added is slowed by it.
    for row in within:
        assert row.p50_ms is not None and row.p50_ms >= 300, row
    before = logins[math.floor(fault.applied_at_s) - 2]
    assert before.p99_ms is not None and before.p99_ms < 300


def test_distributed_workers_merge_to_exactly_what_locust_counted(tmp_path: Path) -> None:
    code, output, result, run_dir = run_experiment(
        tmp_path,
        "workers",
        """
        name: workers
        load:
          arrival_rate: 20
          max_concurrency: 40
          duration: 10s
          warmup: 2s
          workers: 2
        """,
    )
    assert code in (0, 4), output
    health = result.load_health
    assert health is not None
    assert {sample.process for sample in health.generator} == {"master", "worker-0", "worker-1"}
    assert abs(health.planned_journeys - 200) <= 2
    assert sum(row.requests for row in result.timeline) == locust_request_count(run_dir)


def locust_request_count(run_dir: Path) -> int:
    """Locust's own count of every request of the run, from its CSV summary."""
    with (run_dir / "locust_stats.csv").open() as handle:
        aggregated = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return int(aggregated["Request Count"])
