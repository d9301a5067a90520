"""Saved results to render: a real smoke run, and variants of it (failing, scored, hostile)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from peakday.faults.traffic import traffic_from_records
from peakday.load.histograms import decode_histogram, empty_histogram, encode_histogram, summarize
from peakday.results.loadhealth import ArrivalRow, GeneratorSecond, LoadHealth
from peakday.results.model import Result, TimelineRow
from peakday.results.scorecard import (
    FaultImpact,
    MatrixCell,
    ResiliencyMatrix,
    ScoreCard,
    StepFigures,
    StopRecord,
)
from peakday.results.traffic import Traffic
from peakday.scoring.reach import fault_reach

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = "<script>alert('x')</script> | **bold** [link](http://evil.example) & co"


def load_smoke() -> Result:
    """A real 30 s smoke run (schema 1: written before scores existed)."""
    return Result.model_validate_json((FIXTURES / "smoke-schema1.json").read_text())


def failing(result: Result) -> Result:
    """The smoke run with its baseline login latency SLO failed."""
    slos = list(result.slos)
    slos[0] = slos[0].model_copy(update={"value": 351.5, "verdict": "fail"})
    return result.model_copy(update={"slos": tuple(slos), "verdict": "fail", "outcome": "fail"})


def _figures(p95_ms: float, success: float = 1.0) -> StepFigures:
    return StepFigures(
        requests=100, rps=10.0, success_rate=success, p50_ms=p95_ms / 2, p95_ms=p95_ms,
        p99_ms=p95_ms * 1.2,
    )  # fmt: skip


def proxy_traffic(result: Result) -> Traffic:
    """Toxiproxy's counters as sampled each second of the smoke run: logins through auth_login
    (fewer bytes while the latency fault held requests back), introspection steady."""
    t0 = result.run.load_started_wall
    assert t0 is not None
    login = introspect = 0.0
    records = []
    for t in range(-1, 31):
        if t > 0:
            login += 1_800.0 if 12 <= t < 20 else 4_200.0
            introspect += 6_500.0
        records.append(
            {
                "wall": t0 + t + 0.2,
                "measured": True,
                "proxies": {
                    "auth_login": {
                        "upstream_received": login * 0.4,
                        "downstream_received": login,
                        "connections": 0 if t < 0 else 16,
                    },
                    "auth_introspect": {
                        "upstream_received": introspect * 0.3,
                        "downstream_received": introspect,
                        "connections": 0 if t < 0 else 4,
                    },
                },
            }
        )
    return traffic_from_records(records, ["auth_introspect", "auth_login"], t0, 30.0)


def scored(result: Result) -> Result:
    """The smoke run with the scoring parts filled in (score, matrix, impacts, a stop)."""
    steps = ("checkout", "label", "login", "pos_checkout")
    cells = tuple(
        MatrixCell(
            fault="login-latency",
            step=step,
            status="degraded" if step == "login" else "pass",
            summary=(
                "degraded: p95 352 ms (x7.3), 100.0% ok, 3.4 req/s"
                if step == "login"
                else "pass: p95 45 ms (x1.0), 100.0% ok, 10.0 req/s"
            ),
            detail="p95 rose past 1.5x its baseline" if step == "login" else "within its baseline",
            during=_figures(351.5 if step == "login" else 45.0),
            baseline=_figures(47.9 if step == "login" else 44.0),
            p95_ratio=7.3 if step == "login" else 1.0,
            p99_ratio=None,
            rps_ratio=1.0,
            success_drop_pp=0.0,
            time_to_detect_s=1.0 if step == "login" else None,
            time_to_recover_s=2.0 if step == "login" else None,
            recovery="recovered" if step == "login" else "not-needed",
        )
        for step in steps
    )
    slos = tuple(
        s.model_copy(update={"weight": 3.0, "key": True}) if s.name == "checkout-latency" else s
        for s in result.slos
    )
    traffic = proxy_traffic(result)
    return result.model_copy(
        update={
            "slos": slos,
            "traffic": traffic,
            "fault_reach": fault_reach(result.faults, result.timeline, traffic, 30.0),
            "score": ScoreCard(
                total=92.5,
                baseline=100.0,
                fault=85.0,
                recovery=100.0,
                whole_run=90.0,
                lowest=92.5,
                highest=92.5,
                pass_score=90.0,
                warn_score=75.0,
                reason="Score 92.5 is at least the pass score 90.",
            ),
            "matrix": ResiliencyMatrix(faults=("login-latency",), steps=steps, cells=cells),
            "fault_impacts": (
                FaultImpact(
                    fault="login-latency",
                    start_s=12.06,
                    end_s=20.01,
                    blast_radius=("login",),
                    time_to_detect_s=1.0,
                    time_to_recover_s=2.0,
                    recovery="recovered",
                ),
            ),
            "load_health": LoadHealth(
                generator=tuple(
                    GeneratorSecond(
                        t_s=t + 1.0,
                        process="locust",
                        cpu_percent=8.0 + t % 4,
                        lag_ms=1.0 + (t % 3),
                        users=16,
                    )
                    for t in range(30)
                ),
            ),
            "stops": (
                StopRecord(
                    name="checkout-collapse",
                    condition="checkout success_rate < 90% for 10s",
                    action="end_faults",
                    fired_at_s=25.0,
                    breach_from_s=14.0,
                    breach_to_s=25.0,
                ),
            ),
        }
    )


# Open model: how late journeys started, per second, while the login fault tied up users.
START_DELAY_MS = {13: 200, 14: 400, 15: 600, 16: 800, 17: 1000, 18: 1200, 19: 1400}
START_DELAY_MS.update({20: 1000, 21: 500, 22: 150})
JOURNEYS_PER_S = {"merchant": 5, "pos": 5, "shopper": 6}


def _delayed(histogram_b64: str, delay_ms: int) -> str:
    """Every request in the histogram charged `delay_ms` more: the corrected series."""
    shifted = empty_histogram()
    for item in decode_histogram(histogram_b64).get_recorded_iterator():
        shifted.record_value(
            item.value_iterated_to + delay_ms * 1000, item.count_at_value_iterated_to
        )
    return encode_histogram(shifted)


def _open_row(row: TimelineRow) -> TimelineRow:
    """The smoke row as measured from the actual send, plus the corrected series above it."""
    if not row.histogram:
        return row
    delay_ms = START_DELAY_MS.get(row.t_s, 0)
    corrected = _delayed(row.histogram, delay_ms) if delay_ms else row.histogram
    summary = summarize(decode_histogram(corrected))
    assert summary is not None
    return dataclasses.replace(
        row,
        **{
            "histogram": corrected,
            "p50_ms": summary.p50_ms,
            "p90_ms": summary.p90_ms,
            "p95_ms": summary.p95_ms,
            "p99_ms": summary.p99_ms,
            "p999_ms": summary.p999_ms,
            "max_ms": summary.max_ms,
            "uncorrected_histogram": row.histogram,
            "uncorrected_p50_ms": row.p50_ms,
            "uncorrected_p90_ms": row.p90_ms,
            "uncorrected_p95_ms": row.p95_ms,
            "uncorrected_p99_ms": row.p99_ms,
            "uncorrected_p999_ms": row.p999_ms,
            "uncorrected_max_ms": row.max_ms,
        },
    )


def open_model(result: Result) -> Result:
    """The smoke run as if driven by the open model (16 journeys/s, at most 16 users): while
    login was slow every user was busy, journeys started up to 1.4 s late, and the corrected
    series carries that wait while the uncorrected one does not."""
    load = result.experiment.load.model_copy(
        update={"users": None, "arrival_rate": 16.0, "max_concurrency": 16}
    )
    arrivals = tuple(
        ArrivalRow(
            t_s=t,
            journey=journey,
            planned=planned,
            started=planned - 2 if 14 <= t <= 19 else planned + 2 if 20 <= t <= 25 else planned,
            late=planned if t in START_DELAY_MS else 0,
            not_started=0,
            max_start_delay_ms=float(START_DELAY_MS.get(t, 0)),
        )
        for t in range(30)
        for journey, planned in JOURNEYS_PER_S.items()
    )
    return result.model_copy(
        update={
            "experiment": result.experiment.model_copy(update={"load": load}),
            "timeline": tuple(_open_row(row) for row in result.timeline),
            "load_health": LoadHealth(
                model="open",
                planned_journeys=sum(a.planned for a in arrivals),
                late_starts=sum(a.late for a in arrivals),
                max_start_delay_ms=max(START_DELAY_MS.values()),
                arrivals=arrivals,
            ),
        }
    )


def hostile(result: Result) -> Result:
    """User text full of HTML and Markdown: must come out as text everywhere."""
    experiment = result.experiment.model_copy(update={"description": HOSTILE})
    faults = tuple(f.model_copy(update={"label": "<b>fault</b>"}) for f in result.faults)
    slos = list(result.slos)
    slos[0] = slos[0].model_copy(update={"name": HOSTILE})
    return result.model_copy(
        update={
            "experiment": experiment,
            "faults": faults,
            "slos": tuple(slos),
            "environment": {**result.environment, "host": "<img src=x onerror=alert(1)>"},
        }
    )


def resource_records(result: Result) -> list[dict[str, object]]:
    """What the platform's sampler writes: each service every second; auth down for 2 s."""
    t0 = result.run.load_started_wall or 0.0
    records: list[dict[str, object]] = []
    for second in range(-2, 32):
        for index, service in enumerate(("auth", "checkout", "labels")):
            down = service == "auth" and 14 <= second < 16
            records.append(
                {
                    "wall": t0 + second + 0.25,
                    "service": service,
                    "up": not down,
                    "cpu_percent": None if down else 10.0 + 5 * index + (second % 5),
                    "memory_mb": None if down else 60.0 + 10 * index + second / 10,
                }
            )
    return records
