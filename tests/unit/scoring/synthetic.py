"""Synthetic timelines with known numbers, for hand-computed scoring expectations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from peakday.experiment.models import Experiment
from peakday.load.histograms import empty_histogram, encode_histogram, summarize
from peakday.results.model import AppliedFault, PhaseWindow, TimelineRow
from peakday.scoring.phases import compute_phases


def row(t: int, step: str, n: int = 10, ms: float = 20.0, failures: int = 0) -> TimelineRow:
    """`n` requests in second `t`, each taking `ms`, of which `failures` failed."""
    histogram = empty_histogram()
    if n:
        histogram.record_value(round(ms * 1000), n)
    summary = summarize(histogram)
    return TimelineRow(
        t_s=t,
        name=step,
        requests=n,
        failures=failures,
        failures_by_kind={"http_5xx": failures} if failures else {},
        p50_ms=summary.p50_ms if summary else None,
        p90_ms=summary.p90_ms if summary else None,
        p95_ms=summary.p95_ms if summary else None,
        p99_ms=summary.p99_ms if summary else None,
        p999_ms=summary.p999_ms if summary else None,
        max_ms=summary.max_ms if summary else None,
        histogram=encode_histogram(histogram),
    )


def rows(step: str, seconds: Iterable[int], **kwargs: Any) -> list[TimelineRow]:
    return [row(t, step, **kwargs) for t in seconds]


def fault(at: float, end: float, label: str = "f", index: int = 0) -> AppliedFault:
    return AppliedFault(
        index=index,
        label=label,
        proxy="auth_login",
        toxic="latency",
        planned_at_s=at,
        planned_end_s=end,
        applied_at_s=at,
        removed_at_s=end,
    )


def phases(warmup: float, duration: float, *faults: AppliedFault) -> tuple[PhaseWindow, ...]:
    return compute_phases(warmup, duration, list(faults))


def experiment(
    slos: Iterable[Mapping[str, Any]] = (),
    faults: Iterable[Mapping[str, Any]] = (),
    duration: str = "100s",
    warmup: str = "10s",
    **extra: Any,
) -> Experiment:
    data: dict[str, Any] = {
        "name": "synthetic",
        "load": {"users": 10, "spawn_rate": 10, "duration": duration, "warmup": warmup},
        "faults": list(faults),
        "slos": list(slos),
        **extra,
    }
    return Experiment.model_validate(data)


def slo(name: str, request: str, metric: str, objective: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "request": request, "metric": metric, "objective": objective, **extra}


LOGIN_FAULT = {
    "name": "f",
    "at": "40s",
    "duration": "20s",
    "proxy": "auth_login",
    "toxic": "latency",
    "attributes": {"latency": 100},
}


def platform_ready(wall: float, proxies: Iterable[str] = ("auth_login",)) -> dict[str, Any]:
    """The event a platform writes once up, naming the proxies whose traffic is sampled."""
    return {
        "kind": "platform_ready",
        "wall": wall,
        "toxiproxy_api": "127.0.0.1:1",
        "proxies": {name: f"127.0.0.1:{2 + i}" for i, name in enumerate(proxies)},
    }


def traffic_records(
    t0: float,
    seconds: Iterable[int],
    bytes_per_s: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """traffic.jsonl as the sampler writes it: a reading at t0 + t for each t in `seconds`,
    each proxy's counters growing by `bytes_per_s` (default: auth_login, 100 B/s each way)."""
    rates = bytes_per_s if bytes_per_s is not None else {"auth_login": 100.0}
    records = []
    for t in seconds:
        records.append(
            {
                "wall": t0 + t,
                "measured": True,
                "proxies": {
                    name: {
                        "upstream_received": rate * t,
                        "upstream_sent": rate * t,
                        "downstream_received": rate * t,
                        "downstream_sent": rate * t,
                    }
                    for name, rate in rates.items()
                },
            }
        )
    return records
