"""Prometheus alerts judged like SLOs (pure): each expected alert must fire in its fault, and no
alert may fire during the baseline. They carry weights and count in the score; an alert whose
states were never read is inconclusive, never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence

from peakday.experiment.models import Experiment
from peakday.experiment.units import format_duration_s
from peakday.results.model import AlertTiming, SloResult, SloVerdict

FALSE_POSITIVE_CHECK = "no-alert-at-baseline"


def alert_check_name(fault: str, alert: str) -> str:
    return f"alert {alert} on {fault}"


def alert_slos(
    experiment: Experiment, timings: Sequence[AlertTiming], readings: int
) -> tuple[SloResult, ...]:
    alerts = experiment.alerts
    if alerts is None:
        return ()
    results = []
    for expected in alerts.expect:
        timing = next(
            (
                t
                for t in timings
                if t.expected and t.fault == expected.fault and t.alert == expected.alert
            ),
            None,
        )
        verdict: SloVerdict
        if timing is None or not timing.observed:
            verdict = "inconclusive"
            detail = timing.detail if timing is not None else "no alert states in the result"
        elif timing.firing_at_s is None:
            verdict, detail = "fail", timing.detail or "never fired"
        else:
            verdict = "pass"
            detail = (
                f"fired {format_duration_s(timing.time_to_alert_s or 0.0)} after the fault began"
            )
            if timing.cleared_at_s is None:
                detail += "; still firing when the run ended"
        results.append(
            SloResult(
                name=alert_check_name(expected.fault, expected.alert),
                request=expected.alert,
                metric="time_to_alert",
                phase=f"fault:{expected.fault}",
                objective="fires",
                value=timing.time_to_alert_s if timing is not None else None,
                unit="s",
                verdict=verdict,
                detail=detail,
                kind="alert",
                weight=expected.weight,
                key=expected.key,
            )
        )
    if alerts.false_positive_weight > 0:
        false = [t for t in timings if not t.expected]
        if readings == 0:
            verdict, detail = "inconclusive", "Prometheus's alert states were never read"
        elif false:
            verdict = "fail"
            detail = "fired during the baseline: " + ", ".join(
                f"{t.alert} at {t.firing_at_s:g}s" for t in false if t.firing_at_s is not None
            )
        else:
            verdict, detail = "pass", ""
        results.append(
            SloResult(
                name=FALSE_POSITIVE_CHECK,
                request="ALERTS",
                metric="false_positives",
                phase="baseline",
                objective="== 0",
                value=float(len(false)) if readings else None,
                unit="",
                verdict=verdict,
                detail=detail,
                kind="alert",
                weight=alerts.false_positive_weight,
            )
        )
    return tuple(results)
