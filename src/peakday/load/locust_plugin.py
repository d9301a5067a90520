"""Locust plugin: shapes the run from a peakday LoadPlan and writes HDR metrics per step per second.

Load it as an extra locustfile, `locust -f storefront.py,<this file> --headless ...`, with
PEAKDAY_LOAD_PLAN naming the plan JSON. Without that variable it does nothing, except on a worker,
which waits for the master to send the plan. It runs only inside Locust processes: importing it
imports Locust and so gevent's monkey-patching.

Roles: a single process measures and writes the metrics file itself. Distributed, the master
shapes the load and writes the file; each worker measures its own requests and sends its records
(encoded histograms, merged exactly later) to the master as Locust messages. At the end the master
has every worker stop and send its last records and Locust's last stats before it quits
(`WorkerFinish`).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import gevent
from locust import LoadTestShape, User, events
from locust.env import Environment
from locust.event import EventHook
from locust.runners import LocalRunner, MasterRunner, Runner, WorkerRunner

from peakday.load.loadplan import (
    CONNECTIONS_ENV_VAR,
    PLAN_ENV_VAR,
    REQUEST_TIMEOUT_ENV_VAR,
    LoadPlan,
    plan_user_weights,
    target_at,
)
from peakday.load.locust_arrivals import ArrivalPacer
from peakday.load.locust_metrics import Emit, MetricsWriter
from peakday.load.metricsfile import format_record

logger = logging.getLogger("peakday.load")

START_MESSAGE = "peakday_start"  # master -> workers: the plan JSON and the load's start wall
RECORDS_MESSAGE = "peakday_records"  # worker -> master: metrics records
FINISH_MESSAGE = "peakday_finish"  # master -> workers: stop your users, send everything
FINISHED_MESSAGE = "peakday_finished"  # worker -> master: last records and stats are sent
# How long the master waits for the workers' last records beyond the users' stop timeout; with
# it the master still quits within the orchestrator's wait for Locust to end by itself
# (orchestrator.LOAD_END_GRACE_S + the request timeout).
FINISH_MARGIN_S = 1.0


class PlanShape(LoadTestShape):
    """Follows a LoadPlan and ends the run at its duration.

    Abstract so that Locust does not pick it up when scanning this file; the init listener
    installs an instance only when a plan is given.
    """

    abstract = True

    def __init__(self, plan: LoadPlan, before_end: Callable[[], None] | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.plan = plan
        self._before_end = before_end  # runs once, in the shape's greenlet, as the plan ends

    def tick(self) -> tuple[int, float] | None:
        elapsed_s: float = self.get_run_time()  # type: ignore[no-untyped-call]
        target = target_at(self.plan, elapsed_s)
        if target is None and self._before_end is not None:
            before_end, self._before_end = self._before_end, None
            before_end()
        return target


def _available_classes(environment: Environment) -> dict[str, type[User]]:
    # Environment has already dropped classes whose own weight is 0; the plan may turn one on.
    return cast(
        "dict[str, type[User]]",
        environment.available_user_classes
        or {user_class.__name__: user_class for user_class in environment.user_classes},
    )


def _apply_weights(environment: Environment, plan: LoadPlan) -> dict[str, float]:
    """Set the plan's class weights; returns the weight of every class that runs."""
    available = _available_classes(environment)
    weights = plan_user_weights(plan, available)
    if weights is None:
        return {
            user_class.__name__: float(user_class.weight) for user_class in environment.user_classes
        }
    for name, weight in weights.items():
        available[name].weight = weight
    for name in sorted(set(available) - set(weights)):
        logger.info("peakday: user class %s has weight 0 or none in the plan; not run", name)
    # Runners read environment.user_classes when the test starts; editing the list in place
    # before then is what picking classes on the command line does.
    environment.user_classes[:] = [available[name] for name in weights]
    return weights


def _install_shape(
    environment: Environment,
    runner: Runner,
    plan: LoadPlan,
    before_end: Callable[[], None] | None = None,
) -> None:
    if environment.shape_class is not None:
        logger.warning(
            "peakday: the plan replaces shape class %s", type(environment.shape_class).__name__
        )
    shape = PlanShape(plan, before_end)
    shape.runner = runner  # Environment only does this for a shape it had when making the runner
    environment.shape_class = shape


def _stop_gracefully_on_sigterm(
    runner: Runner, before_quit: Callable[[], None] | None = None
) -> None:
    # Locust 2.47 installs its SIGTERM handler only after a headless shape run has finished, so
    # without this a SIGTERM mid-run kills the process before anything is flushed.
    def stop() -> None:
        if before_quit is not None:
            before_quit()
        runner.quit()

    def on_sigterm() -> None:
        logger.info("peakday: SIGTERM received, stopping the load")
        gevent.spawn(stop)  # not in the hub: finishing the workers waits for their messages

    gevent.signal_handler(signal.SIGTERM, on_sigterm)


class WorkerFinish:
    """The master's side of the end of a distributed run.

    Locust's own end (`MasterRunner.quit`) sends `quit` to the workers and stops listening 0.5 s
    later; a worker whose users are still finishing their requests (up to the stop timeout)
    sends its last records and Locust's last stats after that, and both are lost: on a busy
    machine the merged histograms then missed hundreds of requests that Locust's CSV counted.
    So before Locust quits, the master asks every worker to finish and waits until each has
    said so, which it does after its last records and its last stats (messages from one
    worker arrive in order)."""

    def __init__(self, runner: MasterRunner, wait_s: float) -> None:
        self._runner = runner
        self._wait_s = wait_s
        self._finished: set[str] = set()
        self._done = False

    def finished_received(self, msg: Any, **_: Any) -> None:
        self._finished.add(str(msg.node_id))

    def __call__(self) -> None:
        if self._done:
            return
        self._done = True
        runner = self._runner
        waiting = set(runner.clients.keys())
        if not waiting:
            return
        runner.send_message(FINISH_MESSAGE, None)  # to every connected worker
        deadline = time.monotonic() + self._wait_s
        while True:
            # A worker that left (quit, crashed) or went missing has nothing more to send.
            present = set(runner.clients.keys()) - {node.id for node in runner.clients.missing}
            waiting = (waiting & present) - self._finished
            if not waiting or time.monotonic() >= deadline:
                break
            gevent.sleep(0.05)
        if waiting:
            logger.warning(
                "peakday: %d worker(s) did not send their last records within %.0f s: %s",
                len(waiting),
                self._wait_s,
                ", ".join(sorted(waiting)),
            )


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


def _configure_journeys(environment: Environment, plan: LoadPlan) -> dict[str, float]:
    """What the locustfile reads from the environment, and the class weights."""
    os.environ[REQUEST_TIMEOUT_ENV_VAR] = repr(plan.request_timeout_s)
    os.environ[CONNECTIONS_ENV_VAR] = plan.connections
    return _apply_weights(environment, plan)


def _file_sink(plan: LoadPlan) -> tuple[Emit, Callable[..., None]]:
    metrics_path = Path(plan.metrics_file)
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    sink = metrics_path.open("w", encoding="utf-8", buffering=1)

    def emit(records: list[dict[str, object]]) -> None:
        # Line-buffered: each line reaches the file whole.
        for record in records:
            sink.write(format_record(record))

    def close(**_: Any) -> None:
        sink.close()

    return emit, close


def _measure(
    environment: Environment,
    plan: LoadPlan,
    writer: MetricsWriter,
    weights: dict[str, float],
    slot: int = 0,
) -> None:
    if plan.model == "open":
        slots = max(1, plan.workers)
        writer.pacer = ArrivalPacer(plan, weights, writer.arrivals, slot, slots)
        writer.pacer.install(environment.user_classes)
    _listen(environment.events.test_start, writer.start_load)
    _listen(environment.events.request, writer.on_request)
    _listen(environment.events.test_stop, writer.stop_load)


def _run_single(environment: Environment, runner: Runner, plan: LoadPlan) -> None:
    weights = _configure_journeys(environment, plan)
    _install_shape(environment, runner, plan)
    emit, close = _file_sink(plan)
    writer = MetricsWriter(plan, runner, emit)
    _measure(environment, plan, writer, weights)

    def quitting(**_: Any) -> None:
        writer.stop_load()
        close()

    _listen(environment.events.quitting, quitting)


def _run_master(environment: Environment, runner: MasterRunner, plan: LoadPlan) -> WorkerFinish:
    _configure_journeys(environment, plan)
    # Workers give their users Locust's stop timeout to finish their requests.
    finish = WorkerFinish(runner, float(environment.stop_timeout or 0.0) + FINISH_MARGIN_S)
    runner.register_message(FINISHED_MESSAGE, finish.finished_received)
    _install_shape(environment, runner, plan, before_end=finish)
    emit, close = _file_sink(plan)
    writer = MetricsWriter(plan, runner, emit, process="master")
    plan_json = plan.to_json()

    def test_start(**_: Any) -> None:
        # Fired before the spawn messages go out, so every worker has the plan and the start
        # time before its users start.
        wall = writer.start_load()
        runner.send_message(START_MESSAGE, {"plan": plan_json, "wall": wall})

    def records_from_worker(msg: Any, **_: Any) -> None:
        emit(list(msg.data["records"]))

    def quitting(**_: Any) -> None:
        writer.stop_load()
        close()

    runner.register_message(RECORDS_MESSAGE, records_from_worker)
    _listen(environment.events.test_start, test_start)
    _listen(environment.events.test_stop, writer.stop_load)
    _listen(environment.events.quitting, quitting)
    return finish


def _run_worker(environment: Environment, runner: WorkerRunner) -> None:
    """Wait for the master's plan, then measure and send records to the master."""
    state: dict[str, Any] = {}

    def send(records: list[dict[str, object]]) -> None:
        runner.send_message(RECORDS_MESSAGE, {"records": records})

    def start_received(msg: Any, **_: Any) -> None:
        writer: MetricsWriter | None = state.get("writer")
        if writer is None:
            plan = LoadPlan.from_json(str(msg.data["plan"]))
            weights = _configure_journeys(environment, plan)
            writer = MetricsWriter(plan, runner, send, announce=False)
            state["writer"] = writer
            # The pacer's slot: this worker's index among the workers the plan shares out.
            slots = max(1, plan.workers)
            _measure(environment, plan, writer, weights, slot=runner.worker_index % slots)
            writer.process = f"worker-{runner.worker_index}"
            logger.info("peakday: worker got the plan: %s s, %s model", plan.duration_s, plan.model)
        writer.align_start(float(msg.data["wall"]))

    def finish() -> None:
        # Stopping the users fires test_stop, which sends this worker's last records; then
        # Locust's own last stats (what its CSV counts); then the word that both are on the way.
        runner.stop()
        runner._send_stats()  # Locust's final report, as its own `quit` handling sends it
        runner.send_message(FINISHED_MESSAGE, None)

    def finish_received(msg: Any, **_: Any) -> None:
        gevent.spawn(finish)  # stopping users waits for them; not in the message loop

    runner.register_message(START_MESSAGE, start_received)
    runner.register_message(FINISH_MESSAGE, finish_received)


def on_locust_init(environment: Environment, runner: Runner, **_: Any) -> None:
    """Wire the plan in; an exception here makes Locust exit with code 1 before starting."""
    if isinstance(runner, WorkerRunner):
        _run_worker(environment, runner)
        return
    plan_path = os.environ.get(PLAN_ENV_VAR)
    if not plan_path:
        return
    plan = _read_plan(plan_path)
    finish: WorkerFinish | None = None
    if isinstance(runner, MasterRunner):
        finish = _run_master(environment, runner, plan)
    elif isinstance(runner, LocalRunner):
        _run_single(environment, runner, plan)
    else:
        raise RuntimeError(f"peakday's Locust plugin cannot drive a {type(runner).__name__}.")
    _stop_gracefully_on_sigterm(runner, finish)
    logger.info(
        "peakday: plan %s: %s s, metrics to %s", plan_path, plan.duration_s, plan.metrics_file
    )


_listen(events.init, on_locust_init)
