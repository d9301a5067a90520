"""prometheus.jsonl made into the result's server-side series and alert timings (pure).

Alert times come from readings of /api/v1/alerts about once a second: `pending_at_s` is
Prometheus's own `activeAt`; `firing_at_s` is `activeAt` + the rule's `for:` (the evaluation that
fired it: evaluations are `activeAt` plus whole intervals) once a reading has shown it firing, or
that reading when `for:` is unknown; `cleared_at_s` is the first reading without it, so it is late
by at most one reading interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from peakday.experiment.models import Alerts
from peakday.results.model import AlertTiming, AppliedFault, PhaseWindow, TimelineRow


def server_rows(records: Iterable[Mapping[str, Any]]) -> tuple[TimelineRow, ...]:
    """One row per (second, series); a later reading of the same second replaces an earlier."""
    found: dict[tuple[int, str], float | None] = {}
    for record in records:
        if record.get("kind") != "sample":
            continue
        t_s, name, value = record.get("t_s"), record.get("series"), record.get("value")
        if not isinstance(t_s, int) or not isinstance(name, str):
            continue
        number = float(value) if isinstance(value, int | float) else None
        if number is not None and not math.isfinite(number):
            number = None
        if number is not None or (t_s, name) not in found:
            found[(t_s, name)] = number
    return tuple(
        TimelineRow(
            t_s=t_s,
            name=name,
            requests=0,
            failures=0,
            p50_ms=None,
            p95_ms=None,
            p99_ms=None,
            value=value,
        )
        for (t_s, name), value in sorted(found.items())
    )


@dataclass(frozen=True)
class Reading:
    """One reading of the alert states: `t_s` after load start, alert -> (state, pending since)."""

    t_s: float
    alerts: Mapping[str, tuple[str, float | None]]


def readings_of(records: Iterable[Mapping[str, Any]], t0: float) -> tuple[Reading, ...]:
    found = []
    for record in records:
        wall, alerts = record.get("wall"), record.get("alerts")
        if record.get("kind") != "alerts" or not isinstance(wall, int | float):
            continue
        if not isinstance(alerts, list):
            continue  # a reading that failed says nothing
        states: dict[str, tuple[str, float | None]] = {}
        for alert in alerts:
            name, state, active = alert.get("alert"), alert.get("state"), alert.get("active_at")
            if not isinstance(name, str) or state not in ("pending", "firing"):
                continue
            since = float(active) - t0 if isinstance(active, int | float) else None
            if states.get(name, ("", None))[0] != "firing":  # firing wins over pending
                states[name] = (state, since)
        found.append(Reading(t_s=wall - t0, alerts=states))
    return tuple(sorted(found, key=lambda r: r.t_s))


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def alert_holds_of(records: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """alert -> `for:` seconds, from the `rules` record the sampler wrote (if any)."""
    for record in records:
        holds = record.get("for_s")
        if record.get("kind") == "rules" and isinstance(holds, dict):
            return {k: float(v) for k, v in holds.items() if isinstance(v, int | float)}
    return {}


def episode(
    readings: Sequence[Reading],
    alert: str,
    from_s: float,
    until_s: float = math.inf,
    hold_s: float | None = None,
) -> tuple[float | None, float | None, float | None]:
    """(pending_at_s, firing_at_s, cleared_at_s) of the first time `alert` is seen active at or
    after `from_s` (and before `until_s`); cleared = first reading without it after firing."""
    pending = firing = cleared = None
    seen = False
    for reading in readings:
        if reading.t_s < from_s:
            continue
        state = reading.alerts.get(alert)
        if firing is None:
            if reading.t_s >= until_s:
                break
            if state is None:
                continue
            if not seen:
                seen = True
                pending = state[1] if state[1] is not None else reading.t_s
            if state[0] == "firing":
                firing = reading.t_s
                if hold_s is not None and pending is not None:
                    firing = min(firing, pending + hold_s)
        elif state is None:
            cleared = reading.t_s
            break
    return _r(pending), _r(firing), _r(cleared)


def alert_timings(
    alerts: Alerts | None,
    records: Iterable[Mapping[str, Any]],
    t0: float | None,
    faults: Sequence[AppliedFault],
    phases: Sequence[PhaseWindow],
) -> tuple[tuple[AlertTiming, ...], int]:
    """Each expected alert's timing per fault, then every alert firing during the baseline;
    and how many readings of the alert states there were."""
    if alerts is None:
        return (), 0
    records = list(records)
    readings = readings_of(records, t0) if t0 is not None else ()
    holds = alert_holds_of(records)
    timings = []
    for expected in alerts.expect:
        fault = next((f for f in faults if f.label == expected.fault), None)
        base = AlertTiming(fault=expected.fault, alert=expected.alert)
        if not readings:
            timings.append(
                base.model_copy(
                    update={
                        "observed": False,
                        "detail": "Prometheus's alert states were never read during the run",
                    }
                )
            )
            continue
        if fault is None or fault.applied_at_s is None:
            why = fault.skipped if fault is not None and fault.skipped else "it was not applied"
            timings.append(
                base.model_copy(update={"observed": False, "detail": f"the fault never ran: {why}"})
            )
            continue
        later = [
            f.applied_at_s for f in faults if f.applied_at_s and f.applied_at_s > fault.applied_at_s
        ]
        pending, firing, cleared = episode(
            readings,
            expected.alert,
            fault.applied_at_s,
            min(later, default=math.inf),
            holds.get(expected.alert),
        )
        timings.append(
            base.model_copy(
                update={
                    "pending_at_s": pending,
                    "firing_at_s": firing,
                    "time_to_alert_s": _r(firing - fault.applied_at_s)
                    if firing is not None
                    else None,
                    "cleared_at_s": cleared,
                    "detail": "" if firing is not None else "never fired during or after the fault",
                }
            )
        )
    timings.extend(false_positives(readings, phases, holds))
    return tuple(timings), len(readings)


def false_positives(
    readings: Sequence[Reading],
    phases: Sequence[PhaseWindow],
    holds: Mapping[str, float] | None = None,
) -> list[AlertTiming]:
    """Every alert seen firing during a baseline window: nothing was broken yet."""
    found: list[AlertTiming] = []
    named: set[str] = set()
    for window in (p for p in phases if p.kind == "baseline"):
        for reading in readings:
            if not window.start_s <= reading.t_s < window.end_s:
                continue
            for alert, (state, _since) in sorted(reading.alerts.items()):
                if state != "firing" or alert in named:
                    continue
                named.add(alert)
                pending, firing, cleared = episode(
                    readings, alert, window.start_s, hold_s=(holds or {}).get(alert)
                )
                found.append(
                    AlertTiming(
                        fault=None,
                        alert=alert,
                        expected=False,
                        pending_at_s=pending,
                        firing_at_s=firing,
                        cleared_at_s=cleared,
                        detail="fired during the baseline, before any fault (false positive)",
                    )
                )
    return found
