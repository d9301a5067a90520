"""Sequences a run: platform -> proxies -> load + faults -> teardown -> scoring -> result.

Every step that starts something registers its undo first, so faults are rolled back and
children stopped on success, SLO failure, exception, Ctrl-C and SIGTERM alike.
"""

from __future__ import annotations

import logging
import platform as host_platform
import signal
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from peakday import __version__
from peakday.assemble import assemble_result
from peakday.errors import EnvironmentProblem, PeakdayError, UsageError
from peakday.experiment.models import Experiment
from peakday.faults.injector import FaultEvent, FaultInjector
from peakday.faults.plan import plan_actions
from peakday.faults.service_level import AdminEndpoints
from peakday.integrity.io import CONFIRMATIONS_DIR, check_run
from peakday.load.live_timeline import LiveTimeline
from peakday.load.loadplan import LoadPlan, plan_from_load
from peakday.load.runner import LocustProcess, distribution_for
from peakday.load.timeline import timeline_from_records
from peakday.load.workers import WORKER_ENV_FILE, external_workers_message, format_worker_env
from peakday.platforms.base import Endpoints, Platform
from peakday.platforms.resources import RESOURCES_FILE, ResourceSampler
from peakday.processes.children import ProcessGroup, default_registry_dir
from peakday.results.eventlog import EventLog, JsonlTail, read_jsonl
from peakday.results.model import Result, RunInfo, TimelineRow
from peakday.results.reference import load_reference
from peakday.scoring.guard import LiveGuard

log = logging.getLogger(__name__)

# How long past the planned end (plus the request timeout in-flight requests may take)
# Locust may take to stop by itself before it is stopped.
LOAD_END_GRACE_S = 5.0


class Progress(Protocol):
    def tick(self, elapsed_s: float, duration_s: float, active_faults: list[str]) -> None: ...

    def message(self, text: str) -> None: ...

    # Per-second rows as the Locust plugin settles them (a second may arrive in parts).
    def rows(self, latest: Sequence[TimelineRow]) -> None: ...


@dataclass(frozen=True)
class RunConfig:
    experiment: Experiment
    run_dir: Path
    locustfile: Path
    tools_dirs: tuple[Path, ...]
    run_id: str = ""


PlatformFactory = Callable[[RunConfig, ProcessGroup], Platform]


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while tearing down, so a second Ctrl-C cannot leave a toxic behind."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def refuse_used_run_dir(run_dir: Path) -> None:
    """A folder that holds a run already would get two runs' events mixed in one log."""
    used = [
        name
        for name in ("events.jsonl", "metrics.jsonl", "result.json")
        if (run_dir / name).exists()
    ]
    if used:
        raise UsageError(
            f"The results folder {str(run_dir)!r} already holds a run ({', '.join(used)}). "
            "Hint: pass another --out, or leave --out off for a new timestamped folder."
        )


def run_experiment(config: RunConfig, make_platform: PlatformFactory, progress: Progress) -> Result:
    """Run one experiment; returns the result (also when interrupted), raises on env errors."""
    experiment = config.experiment
    run_dir = config.run_dir
    refuse_used_run_dir(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    run_id = config.run_id or new_run_id()
    # the run that '<= +10%' objectives compare with, read before anything starts.
    compare_to = experiment.scoring.compare_to
    reference = load_reference(compare_to) if compare_to is not None else None
    events = EventLog(run_dir / "events.jsonl")
    started_at = datetime.now(UTC).isoformat()
    events.write(
        "run_started",
        wall=time.time(),
        run_id=run_id,
        experiment=experiment.model_dump(mode="json"),
    )
    processes = ProcessGroup(run_dir / "pids.json", registry_dir=default_registry_dir())
    platform = make_platform(config, processes)
    metrics_path = run_dir / "metrics.jsonl"
    injector: FaultInjector | None = None
    behaviours: AdminEndpoints | None = None
    sampler: ResourceSampler | None = None
    locust: LocustProcess | None = None
    endpoints: Endpoints | None = None
    status = "completed"
    failure: BaseException | None = None
    environment: dict[str, str] = {
        "peakday": __version__,
        "python": host_platform.python_version(),
        "platform": platform.name,
        "machine": f"{host_platform.system()} {host_platform.machine()}",
        "host": host_platform.node(),
    }

    def record_fault(event: FaultEvent) -> None:
        events.write(
            event.kind, wall=event.wall, fault_index=event.fault_index, detail=event.detail
        )

    try:
        progress.message(f"starting the {platform.name} platform")
        if platform.name != "external":  # the storefront's resilience knobs
            environment.update(storefront_environment(experiment))
        endpoints = platform.start()
        toxiproxy = platform.toxiproxy()
        environment["toxiproxy"] = toxiproxy.version()
        events.write(
            "platform_ready",
            wall=time.time(),
            toxiproxy_api=endpoints.toxiproxy_api,
            services=dict(endpoints.services),
            proxies=dict(endpoints.proxies),
        )
        # service faults through the platform; CPU/memory per service each second.
        # service-level faults through each service's admin endpoint.
        behaviours = AdminEndpoints(endpoints.admin) if endpoints.admin else None
        injector = FaultInjector(
            toxiproxy,
            experiment.faults,
            record_fault,
            services=platform.services(),
            behaviours=behaviours,
        )
        probe = platform.resource_probe()
        if probe is not None:
            sampler = ResourceSampler(probe, run_dir / RESOURCES_FILE)
            sampler.start()
        plan: LoadPlan = plan_from_load(
            experiment.load, str(metrics_path.resolve()), locust_user_classes(experiment)
        )
        plan_path = run_dir / "load-plan.json"
        plan_path.write_text(plan.to_json())
        # Locust master + workers when load.workers / external_workers ask for them
        distribution = distribution_for(
            experiment.load.workers, experiment.load.external_workers, experiment.load.master_bind
        )
        locust_env = {**endpoints.locust_env(), **integrity_env(experiment, run_dir)}
        locust = LocustProcess(
            processes,
            run_dir,
            config.locustfile,
            plan_path,
            metrics_path,
            experiment.load.request_timeout,
            locust_env,
            host=endpoints.host_for_locust,
            distribution=distribution,
            workers=platform.load_workers(),  # None: worker processes here
        )
        if distribution.external_workers:  # before the master starts, so workers can start too
            (run_dir / WORKER_ENV_FILE).write_text(format_worker_env(locust_env))
        progress.message("starting Locust")
        locust.start()
        if distribution.external_workers:
            progress.message(
                external_workers_message(
                    locust.master_address,
                    distribution.external_workers,
                    run_dir / WORKER_ENV_FILE,
                )
            )
        t0 = locust.wait_started()
        events.write("load_started", wall=t0)
        progress.message(f"load started; running for {experiment.load.duration:.0f} s")
        metrics_tail = JsonlTail(metrics_path)  # live rps / error % for progress
        # steady-state check before the first fault; stop conditions every second.
        guard = LiveGuard(
            experiment,
            LiveTimeline(metrics_path).rows,
            events.write,
            injector.rollback_all,
            progress.message,
            reference,
        )
        for action in plan_actions(experiment.faults):
            _wait_until(
                t0 + action.at_s, t0, experiment, locust, injector, progress, metrics_tail, guard
            )
            if not guard.allows(action.kind, action.fault_index, time.time() - t0):
                continue
            if action.kind == "apply":
                injector.apply(action.fault_index)
                progress.message(f"fault on: {experiment.faults[action.fault_index].label}")
            else:
                injector.remove(action.fault_index)
                progress.message(f"fault off: {experiment.faults[action.fault_index].label}")
        _wait_until(
            t0 + experiment.load.duration,
            t0,
            experiment,
            locust,
            injector,
            progress,
            metrics_tail,
            guard,
        )
        if guard.run_over:  # ended early on purpose; the teardown stops Locust
            status = "stopped"
        elif not locust.wait_finished(LOAD_END_GRACE_S + experiment.load.request_timeout):
            log.warning("Locust did not stop by itself; stopping it")
    except KeyboardInterrupt:
        status = "interrupted"
        progress.message("interrupted: rolling back faults and stopping everything")
    except BaseException as exc:
        status = "error"
        failure = exc
    finally:
        with signals_held():
            if sampler is not None:
                sampler.stop()
            _teardown(injector, locust, platform, events)
            if behaviours is not None:  # after the rollback, which may use it
                behaviours.close()
            if endpoints is not None:
                _check_integrity(experiment, run_dir, endpoints, events)
    ended_at = datetime.now(UTC).isoformat()
    events.write("run_ended", wall=time.time(), status=status)
    events.close()
    run = RunInfo(
        id=run_id,
        platform=platform.name,
        started_at=started_at,
        ended_at=ended_at,
        status=status,  # type: ignore[arg-type]
        error=str(failure) if failure is not None else None,
        peakday_version=__version__,
    )
    result = assemble_result(
        experiment,
        run,
        list(read_jsonl(run_dir / "events.jsonl")),
        list(read_jsonl(metrics_path)),
        environment,
        reference,
    )
    (run_dir / "result.json").write_text(result.model_dump_json(indent=2))
    if failure is not None:
        if isinstance(failure, PeakdayError):
            raise failure
        raise EnvironmentProblem(f"The run failed: {failure!r}") from failure
    return result


def _wait_until(
    wall_deadline: float,
    t0: float,
    experiment: Experiment,
    locust: LocustProcess,
    injector: FaultInjector,
    progress: Progress,
    metrics_tail: JsonlTail,
    guard: LiveGuard,
) -> None:
    next_tick = time.time()
    while True:
        now = time.time()
        if now >= wall_deadline or guard.run_over:
            return
        if not locust.alive():
            if now < t0 + experiment.load.duration - 1.0:
                raise EnvironmentProblem(
                    f"Locust exited {now - t0:.1f} s into a {experiment.load.duration:.0f} s run. "
                    f"Hint: see {locust.child.log_path}."
                )
            return
        if now >= next_tick:
            labels = [experiment.faults[i].label for i in sorted(injector.active)]
            latest = timeline_from_records(metrics_tail.read_new())
            if latest:
                progress.rows(latest)
            progress.tick(now - t0, experiment.load.duration, labels)
            guard.tick(now - t0)  # may roll back every fault, or end the run
            next_tick += 1.0
        time.sleep(min(0.02, max(0.0, wall_deadline - now)))


def _teardown(
    injector: FaultInjector | None,
    locust: LocustProcess | None,
    platform: Platform,
    events: EventLog,
) -> None:
    """Faults first (they hurt real traffic), then load, then the platform; never raises."""
    steps: list[tuple[str, Callable[[], None]]] = []
    if injector is not None:
        steps.append(("roll back faults", injector.rollback_all))
        steps.append(("check no toxic is left", lambda: _record_leftovers(platform, events)))
    if locust is not None:
        steps.append(("stop Locust", locust.stop))
    steps.append(("stop the platform", platform.stop))
    for what, step in steps:
        try:
            step()
        except Exception as exc:
            log.error("could not %s: %s", what, exc)
            events.write("teardown_error", wall=time.time(), step=what, error=str(exc))


def storefront_environment(experiment: Experiment) -> dict[str, str]:
    """The resilience profile's knobs for the result's environment section."""
    from peakday.storefront.profiles import resilience_for

    storefront = experiment.storefront
    return resilience_for(storefront.profile, storefront.overrides()).knobs()


def locust_user_classes(experiment: Experiment) -> dict[str, float] | None:
    """None for the storefront's journeys; on the external platform, the user's own classes
    (empty: every class in their locustfile, with its own weights)."""
    if experiment.platform != "external" or experiment.external is None:
        return None
    return dict(experiment.external.user_classes)


def integrity_env(experiment: Experiment, run_dir: Path) -> dict[str, str]:
    """Where the journeys record each 201 they see, and how often they retry."""
    return {
        "PEAKDAY_CONFIRMATIONS_DIR": str((run_dir / CONFIRMATIONS_DIR).resolve()),
        "PEAKDAY_CLIENT_RETRIES": str(experiment.storefront.client_retries),
    }


def _check_integrity(
    experiment: Experiment, run_dir: Path, endpoints: Endpoints, events: EventLog
) -> None:
    """Reconcile confirmations with the stores once every service has stopped; never raises."""
    if not experiment.storefront.integrity or not endpoints.data_dirs:
        return
    try:
        report = check_run(run_dir, endpoints.data_dirs)
    except Exception as exc:
        log.error("could not check order integrity: %s", exc)
        return
    events.write("integrity_checked", wall=time.time(), report=report.model_dump(mode="json"))


def _record_leftovers(platform: Platform, events: EventLog) -> None:
    left = {proxy: names for proxy, names in platform.toxiproxy().active_toxics().items() if names}
    events.write("toxics_after_rollback", wall=time.time(), toxics=left)
    if left:
        platform.toxiproxy().reset()
