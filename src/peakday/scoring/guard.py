"""What the orchestrator asks while a run goes: may this fault go ahead, and should we stop now?

LiveGuard holds the decisions (steady-state check at the first fault, stop conditions every
second) and reaches the world only through the callables it is given: read the timeline so far,
write an event, roll back every fault, tell the user. Unit tests drive it with fakes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Final

from peakday.experiment.models import Experiment
from peakday.results.events import (
    BaselineChecked,
    Event,
    FaultsSkipped,
    RunStoppedEarly,
    StopConditionFired,
)
from peakday.results.model import TimelineRow
from peakday.results.reference import ReferenceRun
from peakday.scoring.live import StopConditionMonitor, check_baseline, stop_message
from peakday.scoring.manual import ManualStop, manual_stop_record
from peakday.scoring.server_wait import (
    baseline_server_series,
    last_second_before,
    uncovered_series,
    wait_state,
)

RecordEvent = Callable[[Event], None]  # EventLog.write

# Seconds kept behind the stop conditions' longest `sustained`: a second's last part can come as
# late as a request can take (load.request_timeout), and a tick can be late on a busy machine.
FORGET_MARGIN_S: Final = 60


class LiveGuard:
    def __init__(
        self,
        experiment: Experiment,
        read_rows: Callable[[], Sequence[TimelineRow]],
        record: RecordEvent,
        rollback_all: Callable[[], None],
        say: Callable[[str], None],
        reference: ReferenceRun | None = None,
        clock: Callable[[], float] = time.time,
        forget_before: Callable[[int], None] | None = None,
        server_wait_s: float = 0.0,
    ) -> None:
        """`forget_before(t_s)`, when given, lets the timeline drop the seconds before `t_s`:
        called once the steady-state check is done, with what the stop conditions still need.
        `server_wait_s`: how long the steady-state check may wait for the Prometheus poller to
        have read the baseline's last second (its `cover_bound_s`; 0: no poller, no wait)."""
        self._experiment = experiment
        self._read_rows = read_rows
        self._record = record
        self._rollback_all = rollback_all
        self._say = say
        self._reference = reference
        self._clock = clock
        self._forget_before = forget_before
        self._forgotten_before = 0
        self._keep_s = (
            max((math.ceil(c.sustained) for c in experiment.stop_conditions), default=0)
            + math.ceil(experiment.load.request_timeout)
            + FORGET_MARGIN_S
        )
        self._monitor = StopConditionMonitor(experiment.stop_conditions, experiment.load.warmup)
        self._applied: set[int] = set()
        self._baseline_checked = False
        self._server_wait_s = server_wait_s
        self._server_series = baseline_server_series(experiment) if server_wait_s > 0 else ()
        self._baseline_end_s: float | None = None  # set when the check starts waiting
        self._waited_s = 0.0
        self._bound_reached: tuple[str, ...] = ()
        self.faults_ended = False  # no fault may be applied any more
        self.run_over = False  # stop the load now

    def allows(self, kind: str, fault_index: int, now_s: float) -> bool:
        """Whether to carry out a scheduled 'apply' or 'remove' at load time `now_s`."""
        if self.run_over:
            return False
        if kind != "apply":
            return not self.faults_ended  # after a rollback there is nothing left to remove
        if not self._baseline_checked:
            self._baseline_checked = True
            self._check_baseline(now_s)
        if self.faults_ended:
            return False
        self._applied.add(fault_index)
        return True

    def baseline_pending(self, now_s: float) -> bool:
        """Whether the steady-state check, due at the first fault, still waits for Prometheus to
        read the baseline's last second. The first call fixes the baseline's end at `now_s`;
        the caller calls again (ticking meanwhile) until it says False, then `allows`."""
        if self._baseline_checked or self.run_over or not self._server_series:
            return False
        first = self._baseline_end_s is None
        if self._baseline_end_s is None:
            self._baseline_end_s = now_s
        waited_s = max(0.0, now_s - self._baseline_end_s)
        uncovered = uncovered_series(
            self._server_series,
            self._read_rows(),
            self._experiment.load.warmup,
            self._baseline_end_s,
        )
        state = wait_state(uncovered, waited_s, self._server_wait_s)
        if state == "waiting":
            if first:
                self._say(
                    f"waiting up to {self._server_wait_s:g} s for Prometheus to cover the "
                    f"baseline (to second {last_second_before(self._baseline_end_s)} of "
                    f"{', '.join(uncovered)}) before checking the steady state"
                )
            return True
        self._waited_s = waited_s
        if waited_s > 0.0 and state == "covered":
            self._say(f"Prometheus covers the baseline after {waited_s:.1f} s")
        elif state == "bound_reached":
            self._bound_reached = uncovered
            self._say(
                f"Prometheus did not cover the baseline within {self._server_wait_s:g} s "
                f"({', '.join(uncovered)}); judging what it read"
            )
        return False

    def tick(self, now_s: float) -> None:
        """Once a second: judge the stop conditions on the timeline so far and act on them."""
        if self.run_over or not self._experiment.stop_conditions:
            return
        decision = self._monitor.observe(self._read_rows(), now_s, self._forgotten_before)
        self._forget(now_s)
        for record in decision.fired:
            self._record(StopConditionFired(wall=self._clock(), record=record))
            self._say(stop_message(record))
        if decision.action == "none":
            return
        self._end_faults(f"stop condition {decision.fired[0].name!r} fired")
        if decision.action == "end_run":
            self._end_run(f"stop condition {decision.fired[0].name!r}")

    def _forget(self, now_s: float) -> None:
        """Let the timeline drop what no check will read again: everything before the stop
        conditions' window, once the steady-state check (at the first fault) has read it."""
        if self._forget_before is None:
            return
        if self._experiment.faults and not self._baseline_checked:
            return
        before = math.floor(now_s) - self._keep_s
        if before > self._forgotten_before:
            self._forgotten_before = before
            self._forget_before(before)

    def manual_stop(self, stop: ManualStop, now_s: float) -> None:
        """A stop button pressed on the dashboard: acts like a stop condition with its action."""
        if self.run_over or (stop.action == "end_faults" and self.faults_ended):
            return  # nothing left for it to do; not recorded, so a late press changes nothing
        record = manual_stop_record(stop, now_s)
        self._record(StopConditionFired(wall=self._clock(), record=record))
        what = "ending the run" if stop.action == "end_run" else "rolling back all faults"
        self._say(f"{record.condition}: {what}")
        self._end_faults(f"manual stop by {stop.by}")
        if stop.action == "end_run":
            self._end_run(f"manual stop by {stop.by}")

    def _check_baseline(self, now_s: float) -> None:
        # After a wait for Prometheus, the baseline still ends where the wait began.
        at_s = self._baseline_end_s if self._baseline_end_s is not None else now_s
        check = check_baseline(self._experiment, self._read_rows(), at_s, self._reference)
        if self._waited_s > 0.0:
            read = (
                f"Prometheus had not read second {last_second_before(at_s)} of "
                f"{', '.join(self._bound_reached)} after {self._waited_s:.1f} s"
                if self._bound_reached
                else f"waited {self._waited_s:.1f} s for Prometheus to cover the baseline"
            )
            detail = "; ".join(part for part in (check.detail, read) if part)
            check = check.model_copy(
                update={"waited_s": round(self._waited_s, 3), "detail": detail}
            )
        self._record(BaselineChecked(wall=self._clock(), check=check))
        if check.met:
            if check.slos:
                then = "but the faults were ended" if self.faults_ended else "injecting faults"
                self._say(f"steady state holds ({len(check.slos)} baseline SLOs); {then}")
            return
        if check.continued:
            self._say(
                f"steady state does NOT hold ({check.detail}); injecting faults anyway "
                "(continue_if_baseline_not_met)"
            )
            return
        self._say(f"steady state does not hold ({check.detail}): no fault is injected; stopping")
        self._end_faults("the steady state did not hold before the first fault")
        self._end_run("baseline-not-met")

    def _end_faults(self, reason: str) -> None:
        if self.faults_ended:
            return
        self.faults_ended = True
        self._rollback_all()
        never = [i for i in range(len(self._experiment.faults)) if i not in self._applied]
        if never:
            self._record(
                FaultsSkipped(wall=self._clock(), fault_indices=tuple(never), reason=reason)
            )

    def _end_run(self, reason: str) -> None:
        self.run_over = True
        self._record(RunStoppedEarly(wall=self._clock(), reason=reason))
