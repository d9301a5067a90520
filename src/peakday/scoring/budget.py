"""Error budgets over a run: budget consumed and burn rate per window, multi-window alerts (pure).

The run's budget is the failures its success-rate target allows over the whole measured run
(phase 'all'): (1 - target) x requests. A window's burn rate is its failure ratio over
(1 - target): 1 spends the budget exactly by the end of the run, 14.4 fourteen times too fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from peakday.experiment.models import BurnRateAlert, Slo
from peakday.results.model import (
    BudgetWindow,
    BurnAlertResult,
    ErrorBudget,
    PhaseWindow,
    TimelineRow,
)
from peakday.scoring.names import never_ran_detail
from peakday.scoring.phases import rows_in, rows_where, seconds_covered, seconds_of, windows_for

WORKBOOK_PERIOD_S = 30 * 86400.0
# The SRE workbook's paging pairs for a 30-day SLO: (burn rate, long window, short window).
WORKBOOK_PAIRS: tuple[tuple[float, float, float], ...] = (
    (14.4, 3600.0, 300.0),
    (6.0, 21600.0, 1800.0),
)
# Runs are far shorter than 30 days; an hour of the workbook is never less than 10 s of run, so
# the long windows stay long enough to be more than one unlucky second.
MIN_SCALE = 10.0 / 3600.0


def default_alerts(run_length_s: float) -> tuple[BurnRateAlert, ...]:
    """The workbook pairs with windows scaled by run length / 30 days (at least MIN_SCALE)."""
    scale = max(run_length_s / WORKBOOK_PERIOD_S, MIN_SCALE)
    return tuple(
        BurnRateAlert(
            factor=factor,
            long=float(max(1, math.ceil(long_s * scale))),
            short=float(max(1, math.ceil(short_s * scale))),
        )
        for factor, long_s, short_s in WORKBOOK_PAIRS
    )


def _per_second(rows: Sequence[TimelineRow], step: str) -> dict[int, tuple[int, int]]:
    counts: dict[int, tuple[int, int]] = {}
    for row in rows_where(rows, (step,)):
        requests, failures = counts.get(row.t_s, (0, 0))
        counts[row.t_s] = (requests + row.requests, failures + row.failures)
    return counts


def _burn(
    counts: dict[int, tuple[int, int]], first_s: int, last_s: int, allowed_ratio: float
) -> float:
    requests = failures = 0
    for t in range(first_s, last_s + 1):
        r, f = counts.get(t, (0, 0))
        requests += r
        failures += f
    return (failures / requests) / allowed_ratio if requests else 0.0


def _alerts(
    alerts: Sequence[BurnRateAlert],
    counts: dict[int, tuple[int, int]],
    seconds: Sequence[int],
    first_measured_s: int,
    allowed_ratio: float,
) -> tuple[BurnAlertResult, ...]:
    results = []
    for alert in alerts:
        long_n, short_n = max(1, math.ceil(alert.long)), max(1, math.ceil(alert.short))
        fired: float | None = None
        for t in seconds:
            long_burn = _burn(counts, max(first_measured_s, t - long_n + 1), t, allowed_ratio)
            short_burn = _burn(counts, max(first_measured_s, t - short_n + 1), t, allowed_ratio)
            if long_burn >= alert.factor and short_burn >= alert.factor:
                fired = float(t + 1)
                break
        results.append(
            BurnAlertResult(
                factor=alert.factor,
                long_s=alert.long,
                short_s=alert.short,
                severity=alert.severity,
                fired_at_s=fired,
            )
        )
    return tuple(results)


def _window(
    name: str,
    windows: Sequence[PhaseWindow],
    step: str,
    rows: Sequence[TimelineRow],
    counts: dict[int, tuple[int, int]],
    alerts: Sequence[BurnRateAlert],
    first_measured_s: int,
    target: float,
    allowed_failures: float,
) -> BudgetWindow:
    selected = rows_in(rows, step, windows)
    requests = sum(r.requests for r in selected)
    failures = sum(r.failures for r in selected)
    allowed_ratio = 1.0 - target
    return BudgetWindow(
        phase=name,
        start_s=min(w.start_s for w in windows),
        end_s=max(w.end_s for w in windows),
        requests=requests,
        failures=failures,
        consumed=failures / allowed_failures,
        burn_rate=(failures / requests) / allowed_ratio if requests else None,
        alerts=_alerts(alerts, counts, seconds_of(windows), first_measured_s, allowed_ratio),
    )


def evaluate_budget(
    slo: Slo, rows: Sequence[TimelineRow], phases: Sequence[PhaseWindow]
) -> tuple[float | None, ErrorBudget | None, str]:
    """(share of the budget the SLO's phase consumed, the budget's figures, why no value)."""
    target = slo.parsed_target
    if target is None:
        return None, None, "the SLO names no error-budget target"
    whole = windows_for("all", phases)
    requests_all = sum(r.requests for r in rows_in(rows, slo.request, whole))
    if not whole or requests_all == 0:
        if any(r.name == slo.request and r.requests for r in rows):
            return None, None, f"no {slo.request!r} requests in the whole run"
        return None, None, never_ran_detail(slo.request, rows)
    allowed_failures = (1.0 - target) * requests_all
    alerts = (
        slo.burn_rate_alerts
        if slo.burn_rate_alerts is not None
        else default_alerts(seconds_covered(whole))
    )
    counts = _per_second(rows, slo.request)
    first_measured_s = seconds_of(whole)[0] if seconds_of(whole) else 0
    judged = windows_for(slo.phase, phases)
    named: list[tuple[str, tuple[PhaseWindow, ...]]] = []
    if judged:
        named.append((slo.phase, judged))
    named += [(p.name, (p,)) for p in phases if p.kind == "fault"]
    budget = ErrorBudget(
        target=target,
        allowed_failures=allowed_failures,
        windows=tuple(
            _window(
                name,
                ws,
                slo.request,
                rows,
                counts,
                alerts,
                first_measured_s,
                target,
                allowed_failures,
            )
            for name, ws in named
        ),
    )
    if not judged:
        return None, budget, "the phase did not happen in this run"
    return budget.windows[0].consumed, budget, ""
