"""Whether Prometheus has read the whole baseline yet, for the steady-state check (pure).

The server-side series are read by a poller (monitoring.sampler) a few seconds behind the load:
second t is queried once t + 1 and the poller's lag have passed, on its next turn. At the first
fault, a server-side baseline SLO judged on the rows written so far would miss the baseline's
last seconds (or all of it) and read as "no data". So the check waits, a bounded time, until
every such series has a row for the baseline's last second; past the bound it judges what there
is (still "no data" when nothing came: inconclusive, never a pass).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal

from peakday.experiment.models import Experiment
from peakday.results.model import TimelineRow

WaitState = Literal["covered", "waiting", "bound_reached"]


def last_second_before(end_s: float) -> int:
    """The last whole second of a window ending at `end_s` (a second belongs to the window
    holding its middle)."""
    return math.ceil(end_s - 0.5) - 1


def baseline_server_series(experiment: Experiment) -> tuple[str, ...]:
    """The timeline steps of the server-side SLOs the steady-state check judges."""
    return tuple(
        sorted(
            {
                s.request
                for s in experiment.slos
                if s.phase == "baseline" and s.source == "prometheus"
            }
        )
    )


def uncovered_series(
    series: Sequence[str], rows: Iterable[TimelineRow], warmup_s: float, end_s: float
) -> tuple[str, ...]:
    """The series with no row yet for the last second of the baseline [warmup_s, end_s).

    The poller writes each series' seconds in order, so a row for the last second means every
    earlier one was read too (with a value or without one)."""
    last_s = last_second_before(end_s)
    if last_s < math.ceil(warmup_s - 0.5):  # a baseline without a whole second: nothing to read
        return ()
    wanted = set(series)
    latest: dict[str, int] = {}
    for row in rows:
        if row.name in wanted:
            latest[row.name] = max(row.t_s, latest.get(row.name, row.t_s))
    return tuple(name for name in series if latest.get(name, -1) < last_s)


def wait_state(uncovered: Sequence[str], waited_s: float, bound_s: float) -> WaitState:
    """Judge now (covered, or the bound has passed), or wait for the poller a little longer."""
    if not uncovered:
        return "covered"
    if waited_s >= bound_s:
        return "bound_reached"
    return "waiting"
