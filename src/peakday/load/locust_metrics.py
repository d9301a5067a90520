"""Inside Locust: record every request into per-second HdrHistograms and stream the records.

Runs only in the Locust process (it imports gevent). Records go to `emit`: the metrics file in a
single process or on the master, a message to the master on a worker.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from typing import Any, cast

import gevent
import psutil
from locust.runners import Runner

from peakday.load.failures import classify_failure
from peakday.load.loadplan import LoadPlan
from peakday.load.locust_arrivals import ArrivalPacer
from peakday.load.metricsfile import (
    GeneratorSample,
    generator_record,
    load_started_record,
    load_stopped_record,
)
from peakday.load.records import ArrivalRecorder, StepSecondRecorder

# A second's bucket is written once it ended this long ago; later stragglers get their own record.
SETTLE_GRACE_S = 1.5

Emit = Callable[[list[dict[str, object]]], None]


class MetricsWriter:
    """Records requests and journey starts, and every second writes what has settled plus the
    generator's own CPU use and event-loop lag."""

    def __init__(
        self,
        plan: LoadPlan,
        runner: Runner,
        emit: Emit,
        process: str = "locust",
        announce: bool = True,
    ) -> None:
        self._plan = plan
        self._runner = runner
        self._emit = emit
        self.process = process
        self._announce = announce  # the process that owns the run writes load_started/stopped
        self._recorder = StepSecondRecorder(open_model=plan.model == "open")
        self.arrivals = ArrivalRecorder()
        self.pacer: ArrivalPacer | None = None
        self._os_process = psutil.Process()
        self._os_process.cpu_percent(None)  # the first reading only starts the measurement
        self.load_start_wall: float | None = None
        self._started = False
        self._stopped = False
        self._loop: gevent.Greenlet | None = None

    def start_load(self, reference_wall: float | None = None, **_: Any) -> float:
        """Note when the load started; a restarted test (web UI) keeps the first start."""
        start_wall = self.load_start_wall or reference_wall or time.time()
        if not self._started:
            self._started = True
            self.load_start_wall = start_wall
            if self._announce:
                self._emit([load_started_record(start_wall)])
            self._loop = gevent.spawn(self._flush_loop)
            if self.pacer is not None:
                self.pacer.start(start_wall)
        return start_wall

    def align_start(self, reference_wall: float) -> None:
        """A worker adopts the master's load start, so every process counts the same seconds."""
        self.load_start_wall = reference_wall

    def on_request(
        self,
        name: str,
        response_time: float,
        exception: BaseException | None = None,
        response: object = None,
        start_time: float | None = None,
        **_: Any,
    ) -> None:
        # Hot path, on every request: arithmetic and a few dict updates; no I/O, no histogram
        # (the recorder builds those once a second). See docs/load.md, "The per-request path".
        if not self._started:
            self.start_load()
        load_start_wall = cast("float", self.load_start_wall)
        if start_time is None:  # custom clients may not say; derive it from the duration
            start_time = time.time() - response_time / 1000.0
        pacer = self.pacer
        if pacer is None:
            t_s = math.floor(start_time - load_start_wall)
            delay_us = 0
        else:
            delay_s = pacer.current_delay_s()
            t_s = math.floor(start_time - delay_s - load_start_wall)  # by intended start
            delay_us = round(delay_s * 1_000_000)
        failure = None
        if exception is not None:
            failure = classify_failure(
                exception, getattr(response, "status_code", None), getattr(response, "error", None)
            )
        latency_us = round(response_time * 1000.0)  # Locust's float ms as whole microseconds
        self._recorder.record(t_s, name, latency_us if latency_us > 0 else 0, failure, delay_us)

    def _write_settled(self, final: bool) -> None:
        if self.load_start_wall is None:
            return
        if final:
            steps, arrivals = self._recorder.drain_all(), self.arrivals.drain_all()
        else:
            now_s = time.time() - self.load_start_wall
            steps = self._recorder.drain_settled(now_s, SETTLE_GRACE_S)
            arrivals = self.arrivals.drain_settled(now_s, SETTLE_GRACE_S)
        records = [record.to_json_dict() for record in steps]
        records += [record.to_json_dict() for record in arrivals]
        if records:
            self._emit(records)

    def _flush_loop(self) -> None:
        tick_s = min(1.0, self._plan.flush_interval_s)
        flush_every = max(1, round(self._plan.flush_interval_s / tick_s))
        health_every = max(1, round(1.0 / tick_s))
        due = time.monotonic()
        max_lag_s = 0.0
        for tick in itertools.count(1):
            due += tick_s
            gevent.sleep(max(0.0, due - time.monotonic()))
            lag_s = max(0.0, time.monotonic() - due)
            max_lag_s = max(max_lag_s, lag_s)
            if lag_s > tick_s:
                due = time.monotonic()  # fell behind: carry on from now rather than burst
            if tick % flush_every == 0:
                self._write_settled(final=False)
            if tick % health_every == 0:
                sample = GeneratorSample(
                    wall=time.time(),
                    cpu_percent=self._os_process.cpu_percent(None),
                    lag_ms=round(max_lag_s * 1000.0, 3),
                    users=self._runner.user_count,
                    process=self.process,
                )
                self._emit([generator_record(sample)])
                max_lag_s = 0.0

    def stop_load(self, **_: Any) -> None:
        if self._loop is not None:
            self._loop.kill(block=True)
            self._loop = None
        if self.pacer is not None:
            self.pacer.stop()
        self._write_settled(final=True)
        if self.load_start_wall is not None and not self._stopped:
            self._stopped = True
            if self._announce:
                self._emit([load_stopped_record(time.time())])
