"""Locust plugin: shapes the run from a peakday LoadPlan and writes HDR metrics per step per second.

Load it as an extra locustfile, `locust -f storefront.py,<this file> --headless ...`, with
PEAKDAY_LOAD_PLAN naming the plan JSON. Without that variable it does nothing. It runs only inside
the Locust process: importing it imports Locust and so gevent's monkey-patching.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, cast

import gevent
import psutil
from locust import LoadTestShape, User, events
from locust.env import Environment
from locust.event import EventHook
from locust.runners import LocalRunner, Runner

from peakday.load.histograms import (
    GeneratorSample,
    StepSecondRecorder,
    classify_failure,
    format_record,
    generator_record,
    latency_us_from_ms,
    load_started_record,
    load_stopped_record,
)
from peakday.load.loadplan import (
    PLAN_ENV_VAR,
    REQUEST_TIMEOUT_ENV_VAR,
    LoadPlan,
    plan_user_weights,
    target_at,
)

logger = logging.getLogger("peakday.load")

# A second's bucket is written once it ended this long ago; later stragglers get their own record.
SETTLE_GRACE_S = 1.5


class PlanShape(LoadTestShape):
    """Follows a LoadPlan and ends the run at its duration.

    Abstract so that Locust does not pick it up when scanning this file; the init listener
    installs an instance only when a plan is given.
    """

    abstract = True

    def __init__(self, plan: LoadPlan) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.plan = plan

    def tick(self) -> tuple[int, float] | None:
        elapsed_s: float = self.get_run_time()  # type: ignore[no-untyped-call]
        return target_at(self.plan, elapsed_s)


class MetricsWriter:
    """Records every request into per-second histograms and streams them to the metrics file."""

    def __init__(self, plan: LoadPlan, runner: Runner, sink: TextIO) -> None:
        self._plan = plan
        self._runner = runner
        self._sink = sink
        self._recorder = StepSecondRecorder()
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # the first reading only starts the measurement
        self._load_start_wall: float | None = None
        self._stopped = False
        self._loop: gevent.Greenlet | None = None

    def _write(self, record: dict[str, object]) -> None:
        self._sink.write(format_record(record))  # line-buffered: each line reaches the file whole

    def start_load(self, **_: Any) -> float:
        """Note when the load started; a restarted test (web UI) keeps the first start."""
        if self._load_start_wall is None:
            self._load_start_wall = time.time()
            self._write(load_started_record(self._load_start_wall))
            self._loop = gevent.spawn(self._flush_loop)
        return self._load_start_wall

    def on_request(
        self,
        name: str,
        response_time: float,
        exception: BaseException | None = None,
        response: object = None,
        start_time: float | None = None,
        **_: Any,
    ) -> None:
        # Hot path: arithmetic, a dict lookup and an HDR record; no I/O.
        load_start_wall = self._load_start_wall or self.start_load()
        if start_time is None:  # custom clients may not say; derive it from the duration
            start_time = time.time() - response_time / 1000.0
        t_s = math.floor(start_time - load_start_wall)
        failure = None
        if exception is not None:
            failure = classify_failure(exception, getattr(response, "status_code", None))
        self._recorder.record(t_s, name, latency_us_from_ms(response_time), failure)

    def _write_settled(self, final: bool) -> None:
        if self._load_start_wall is None:
            return
        if final:
            records = self._recorder.drain_all()
        else:
            now_s = time.time() - self._load_start_wall
            records = self._recorder.drain_settled(now_s, SETTLE_GRACE_S)
        for record in records:
            self._write(record.to_json_dict())

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
                    cpu_percent=self._process.cpu_percent(None),
                    lag_ms=round(max_lag_s * 1000.0, 3),
                    users=self._runner.user_count,
                )
                self._write(generator_record(sample))
                max_lag_s = 0.0

    def stop_load(self, **_: Any) -> None:
        if self._loop is not None:
            self._loop.kill(block=True)
            self._loop = None
        self._write_settled(final=True)
        if self._load_start_wall is not None and not self._stopped:
            self._stopped = True
            self._write(load_stopped_record(time.time()))

    def close(self, **_: Any) -> None:
        self.stop_load()
        self._sink.close()


def _apply_weights(environment: Environment, plan: LoadPlan) -> None:
    # Look classes up among all the locustfiles define: Environment has already dropped classes
    # whose own weight is 0, and the plan may turn one of those on.
    available = cast(
        "dict[str, type[User]]",
        environment.available_user_classes
        or {user_class.__name__: user_class for user_class in environment.user_classes},
    )
    weights = plan_user_weights(plan, available)
    if weights is None:
        return
    for name, weight in weights.items():
        available[name].weight = weight
    for name in sorted(set(available) - set(weights)):
        logger.info("peakday: user class %s has weight 0 or none in the plan; not run", name)
    # Runners read environment.user_classes when the test starts; editing the list in place
    # before then is what picking classes on the command line does.
    environment.user_classes[:] = [available[name] for name in weights]


def _install_shape(environment: Environment, runner: Runner, plan: LoadPlan) -> None:
    if environment.shape_class is not None:
        logger.warning(
            "peakday: the plan replaces shape class %s", type(environment.shape_class).__name__
        )
    shape = PlanShape(plan)
    shape.runner = runner  # Environment only does this for a shape it had when making the runner
    environment.shape_class = shape


def _stop_gracefully_on_sigterm(runner: Runner) -> None:
    # Locust 2.47 installs its SIGTERM handler only after a headless shape run has finished, so
    # without this a SIGTERM mid-run kills the process before anything is flushed.
    def on_sigterm() -> None:
        logger.info("peakday: SIGTERM received, stopping the load")
        runner.quit()

    gevent.signal_handler(signal.SIGTERM, on_sigterm)


def _read_plan(path: str) -> LoadPlan:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise RuntimeError(
            f"cannot read the load plan {path!r} named by {PLAN_ENV_VAR}: {error}"
        ) from error
    try:
        return LoadPlan.from_json(text)
    except ValueError as error:
        raise RuntimeError(f"the load plan {path!r} is not valid: {error}") from error


def _listen(hook: EventHook, handler: Callable[..., object]) -> None:
    hook.add_listener(handler)  # type: ignore[no-untyped-call]


def on_locust_init(environment: Environment, runner: Runner, **_: Any) -> None:
    """Wire the plan in; an exception here makes Locust exit with code 1 before starting."""
    plan_path = os.environ.get(PLAN_ENV_VAR)
    if not plan_path:
        return
    if not isinstance(runner, LocalRunner):
        raise RuntimeError(
            f"peakday's Locust plugin needs a single Locust process, got {type(runner).__name__}. "
            "Hint: do not pass --master, --worker or --processes."
        )
    plan = _read_plan(plan_path)
    os.environ[REQUEST_TIMEOUT_ENV_VAR] = repr(plan.request_timeout_s)
    _apply_weights(environment, plan)
    _install_shape(environment, runner, plan)

    metrics_path = Path(plan.metrics_file)
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    sink = metrics_path.open("w", encoding="utf-8", buffering=1)
    writer = MetricsWriter(plan, runner, sink)
    _listen(environment.events.test_start, writer.start_load)
    _listen(environment.events.request, writer.on_request)
    _listen(environment.events.test_stop, writer.stop_load)
    _listen(environment.events.quitting, writer.close)
    _stop_gracefully_on_sigterm(runner)
    logger.info(
        "peakday: plan %s: %s s, metrics to %s", plan_path, plan.duration_s, plan.metrics_file
    )


_listen(events.init, on_locust_init)
