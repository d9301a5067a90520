"""The dashboard's stop conditions (pure): how long each has been in breach so far, on the
client-side timeline or, for `source: prometheus`, on the server-side series; and the manual
stops pressed on the page."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from peakday.experiment.models import Experiment, StopCondition
from peakday.results.model import Result, TimelineRow
from peakday.scoring.live import describe, second_value

from .snapshot import StopLine


def breach_seconds(condition: StopCondition, rows: Sequence[TimelineRow], first_s: int) -> int:
    """How many seconds the condition has been breached, up to the last second measured
    (seconds without requests neither break nor extend the run, as in the stop rule)."""
    by_second: Mapping[int, TimelineRow] = {r.t_s: r for r in rows if r.name == condition.request}
    if not rows:
        return 0
    last_s = max(r.t_s for r in rows)
    start: int | None = None
    end = first_s
    for t in range(first_s, last_s + 1):
        value = second_value(condition, by_second.get(t))
        if value is None:
            continue
        if condition.parsed_when.holds(value):
            start = t if start is None else start
            end = t + 1
        else:
            start = None
    return 0 if start is None else end - start


def _rows_of(condition: StopCondition, result: Result) -> Sequence[TimelineRow]:
    return result.server_timeline if condition.source == "prometheus" else result.timeline


def stop_lines(experiment: Experiment, result: Result) -> tuple[StopLine, ...]:
    first_s = math.ceil(experiment.load.warmup - 0.5)
    fired = {s.name for s in result.stops}
    lines = [
        StopLine(
            name=c.name,
            condition=describe(c),
            action=c.action,
            in_breach_s=float(breach_seconds(c, _rows_of(c, result), first_s)),
            sustained_s=c.sustained,
            fired=c.name in fired,
        )
        for c in experiment.stop_conditions
    ]
    lines += [
        StopLine(
            name=s.name,
            condition=s.condition,
            action=s.action,
            in_breach_s=0.0,
            sustained_s=0.0,
            fired=True,
            manual_by=s.manual_by,
            manual_at=s.manual_at,
        )
        for s in result.stops
        if s.manual_by is not None
    ]
    return tuple(lines)
