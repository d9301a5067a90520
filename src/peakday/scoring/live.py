"""Judgements made while the run is going (pure): the steady-state check before the first fault,
and stop conditions watched every second. The orchestrator feeds them the timeline so far and
acts on what they return; nothing here touches a process or a file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from peakday.experiment.models import Experiment, StopCondition
from peakday.experiment.units import format_duration_s, format_measure
from peakday.results.model import BaselineCheck, PhaseWindow, StopRecord, TimelineRow
from peakday.results.reference import ReferenceRun
from peakday.scoring.slo import evaluate_slo, unit_of

StopAction = Literal["none", "end_faults", "end_run"]


def check_baseline(
    experiment: Experiment,
    rows: Sequence[TimelineRow],
    at_s: float,
    reference: ReferenceRun | None = None,
) -> BaselineCheck:
    """Judge the baseline-phase SLOs on what was measured between the warmup and `at_s`.

    The window ends at the last second the load generator has written out, so seconds still in
    flight do not count as seconds without requests.
    """
    warmup_s = experiment.load.warmup
    last_s = max((r.t_s for r in rows), default=None)
    end_s = min(at_s, last_s + 1.0) if last_s is not None else warmup_s
    end_s = max(end_s, warmup_s)
    phases = (
        PhaseWindow(name="baseline", kind="baseline", start_s=warmup_s, end_s=end_s),
        PhaseWindow(name="all", kind="all", start_s=warmup_s, end_s=end_s),
    )
    results = tuple(
        evaluate_slo(slo, rows, phases, reference)
        for slo in experiment.slos
        if slo.phase == "baseline"
    )
    failed = [r.name for r in results if r.verdict == "fail"]
    missing = [r.name for r in results if r.verdict == "inconclusive"]
    met = not failed and not missing
    parts = []
    if failed:
        parts.append(f"failed: {', '.join(failed)}")
    if missing:
        parts.append(f"no data: {', '.join(missing)}")
    if not results:
        parts.append("no baseline SLOs to judge")
    return BaselineCheck(
        at_s=round(at_s, 3),
        met=met,
        continued=not met and experiment.scoring.continue_if_baseline_not_met,
        slos=results,
        detail="; ".join(parts),
    )


def describe(condition: StopCondition) -> str:
    return (
        f"{condition.request} {condition.metric} {condition.when.strip()} "
        f"for {format_duration_s(condition.sustained)}"
    )


def second_value(condition: StopCondition, row: TimelineRow | None) -> float | None:
    """The condition's metric for one second; None when the second says nothing about it."""
    if condition.metric == "value":  # a server-side series: the query's value, when it had one
        return row.value if row is not None else None
    if condition.metric == "rps":
        return float(row.requests) if row is not None else 0.0
    if row is None or row.requests == 0:
        return None
    if condition.metric == "success_rate":
        return (row.requests - row.failures) / row.requests
    value: float | None = getattr(row, f"{condition.metric}_ms", None)
    return value


def sustained_breach(
    condition: StopCondition, rows: Sequence[TimelineRow], first_s: int, last_s: int
) -> tuple[int, int, float | None] | None:
    """The first run of breached seconds lasting `sustained`, as (first, end, last value).

    A second without requests does not break a run: its length goes from the first to the last
    breached second. For rps an empty second is 0 req/s, a value like any other.
    """
    by_second = {r.t_s: r for r in rows if r.name == condition.request}
    needed = max(1, math.ceil(condition.sustained))
    when = condition.parsed_when
    start: int | None = None
    for t in range(first_s, last_s + 1):
        value = second_value(condition, by_second.get(t))
        if value is None:
            continue
        if not when.holds(value):
            start = None
            continue
        start = t if start is None else start
        if t + 1 - start >= needed:
            return start, t + 1, value
    return None


@dataclass(frozen=True)
class StopDecision:
    fired: tuple[StopRecord, ...] = ()

    @property
    def action(self) -> StopAction:
        if any(record.action == "end_run" for record in self.fired):
            return "end_run"
        return "end_faults" if self.fired else "none"


@dataclass
class StopConditionMonitor:
    """Watches the stop conditions; each fires at most once. Feed it the whole timeline so far.

    (Mutable: it remembers what has fired. Its decisions depend only on what it is shown.)
    """

    conditions: Sequence[StopCondition]
    warmup_s: float
    fired: list[StopRecord] = field(default_factory=list)

    def observe(self, rows: Sequence[TimelineRow], now_s: float, from_s: int = 0) -> StopDecision:
        """Judge the conditions on `rows`; seconds before `from_s` were forgotten, so they are
        not seconds without requests (for rps that would read as 0 req/s)."""
        if not rows:
            return StopDecision()
        first_s = max(math.ceil(self.warmup_s - 0.5), from_s)
        last_s = max(r.t_s for r in rows)
        done = {record.name for record in self.fired}
        new: list[StopRecord] = []
        for condition in self.conditions:
            if condition.name in done:
                continue
            breach = sustained_breach(condition, rows, first_s, last_s)
            if breach is None:
                continue
            start, end, value = breach
            new.append(
                StopRecord(
                    name=condition.name,
                    condition=describe(condition),
                    action=condition.action,
                    fired_at_s=round(now_s, 3),
                    breach_from_s=float(start),
                    breach_to_s=float(end),
                    value=value,
                    unit=unit_of(condition.metric),
                )
            )
        self.fired.extend(new)
        return StopDecision(tuple(new))


def stop_message(record: StopRecord) -> str:
    """One line for the console when a stop condition fires."""
    value = (
        f" (last {format_measure(record.value, record.unit)})" if record.value is not None else ""
    )
    what = "ending the run" if record.action == "end_run" else "rolling back all faults"
    return (
        f"stop condition {record.name!r} fired: {record.condition}, "
        f"from {record.breach_from_s:g}s to {record.breach_to_s:g}s{value}; {what}"
    )
