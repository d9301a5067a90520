"""Locust plugin: shapes the run from a peakday LoadPlan and writes HDR metrics per step per second.

Load it as an extra locustfile, `locust -f storefront.py,<this file> --headless ...`, with
PEAKDAY_LOAD_PLAN naming the plan JSON. Without that variable it does nothing, except on a worker,
which waits for the master to send the plan. It runs only inside Locust processes: importing it
imports Locust and so gevent's monkey-patching.

Roles: a single process measures and writes the metrics file itself. Distributed, the master
shapes the load and writes the file; each worker measures its own requests and sends its records
(encoded histograms, merged exactly later) to the master as Locust messages.
"""

from __future__ import annotations

import logging
import os
import signal
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


def _run_master(environment: Environment, runner: MasterRunner, plan: LoadPlan) -> None:
    _configure_journeys(environment, plan)
    _install_shape(environment, runner, plan)
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

    runner.register_message(START_MESSAGE, start_received)


def on_locust_init(environment: Environment, runner: Runner, **_: Any) -> None:
    """Wire the plan in; an exception here makes Locust exit with code 1 before starting."""
    if isinstance(runner, WorkerRunner):
        _run_worker(environment, runner)
        return
    plan_path = os.environ.get(PLAN_ENV_VAR)
    if not plan_path:
        return
    plan = _read_plan(plan_path)
    if isinstance(runner, MasterRunner):
        _run_master(environment, runner, plan)
    elif isinstance(runner, LocalRunner):
        _run_single(environment, runner, plan)
    else:
        raise RuntimeError(f"peakday's Locust plugin cannot drive a {type(runner).__name__}.")
    _stop_gracefully_on_sigterm(runner)
    logger.info(
        "peakday: plan %s: %s s, metrics to %s", plan_path, plan.duration_s, plan.metrics_file
    )


_listen(events.init, on_locust_init)
