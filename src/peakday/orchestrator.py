"""Runs one experiment: platform -> Locust -> faults, unwound in reverse, then the result.

A Run puts every resource it starts on one teardown stack, so the teardown order is the reverse
of the start order by construction: faults are rolled back first (they hurt real traffic), then
Locust stops (in-flight requests finish and are recorded; the master before its workers), then
the platform (services, Toxiproxy). That holds on success, SLO failure, exception, Ctrl-C and
SIGTERM; each undo step runs with SIGINT/SIGTERM held and a failing one does not stop the rest.
The result is then assembled from the run folder's own files, exactly as `peakday assemble`
does after a SIGKILL.
"""

from __future__ import annotations

import logging
import platform as host_platform
from dataclasses import dataclass

from peakday import __version__
from peakday.assemble import write_assembled
from peakday.errors import EnvironmentProblem, PeakdayError
from peakday.experiment.models import Experiment
from peakday.faults.injector import FaultInjector
from peakday.faults.plan import plan_actions
from peakday.faults.service_level import AdminEndpoints
from peakday.faults.traffic import TrafficSampler
from peakday.integrity.io import check_run
from peakday.load.live_timeline import LiveTimeline
from peakday.load.loadplan import plan_from_load
from peakday.load.runner import distribution_for
from peakday.load.timeline import timeline_from_records
from peakday.load.workers import external_workers_message, format_worker_env
from peakday.monitoring.sampler import ServerSampler
from peakday.monitoring.setup import live_server_rows, ready_monitoring, server_sampler
from peakday.platforms.base import Endpoints, Platform
from peakday.platforms.resources import ResourceSampler
from peakday.processes.children import ProcessGroup
from peakday.results.eventlog import EventLog, JsonlTail
from peakday.results.events import (
    Event,
    FaultsSkipped,
    IntegrityChecked,
    LoadStarted,
    PlatformReady,
    RunEnded,
    RunStarted,
    ToxicsAfterRollback,
)
from peakday.results.model import Result, TimelineRow
from peakday.results.outcome import RunStatus
from peakday.results.reference import ReferenceRun, load_reference
from peakday.runconfig import RunConfig
from peakday.scoring.guard import LiveGuard
from peakday.scoring.manual import ManualStops
from peakday.seams import LoadProcess, LoadRequest, PlatformFactory, Progress, RunSeams
from peakday.teardown import Teardown

log = logging.getLogger(__name__)

# How long past the planned end (plus the request timeout in-flight requests may take)
# Locust may take to stop by itself before it is stopped.
LOAD_END_GRACE_S = 5.0
# How often the steady-state check looks again while it waits for Prometheus (seconds).
BASELINE_POLL_S = 0.25
# How often the run's loop looks whether Locust is still running between its once-a-second
# ticks (fault times and ticks are kept exactly: the loop wakes for them), and how often while
# the live dashboard's stop buttons may be pressed (each press is acted on within one turn).
LOOP_POLL_S = 0.1
STOP_BUTTON_POLL_S = 0.02


def run_experiment(
    config: RunConfig,
    make_platform: PlatformFactory,
    progress: Progress,
    manual_stops: ManualStops | None = None,
) -> Result:
    """Run one experiment; returns the result (also when interrupted), raises on env errors.

    `manual_stops`: where the live dashboard's stop buttons post their presses."""
    return Run(config, RunSeams(make_platform, manual_stops=manual_stops), progress).execute()


def storefront_environment(experiment: Experiment) -> dict[str, str]:
    """The resilience profile's knobs for the result's environment section."""
    from peakday.storefront.profiles import resilience_for

    storefront = experiment.storefront
    knobs = resilience_for(storefront.profile, storefront.overrides()).knobs()
    return {**knobs, "storefront.workers": str(storefront.workers)}


def locust_user_classes(experiment: Experiment, runs_storefront: bool) -> dict[str, float] | None:
    """None for the storefront's journeys; on the user's own system, their own classes
    (empty: every class in their locustfile, with its own weights)."""
    if runs_storefront:
        return None
    return experiment.user_classes


def integrity_env(config: RunConfig) -> dict[str, str]:
    """Where the journeys record each 201 they see, and how often they retry."""
    return {
        "PEAKDAY_CONFIRMATIONS_DIR": str(config.folder.confirmations.resolve()),
        "PEAKDAY_CLIENT_RETRIES": str(config.experiment.storefront.client_retries),
    }


class Run:
    """One run of one experiment, as named steps over one teardown stack."""

    def __init__(self, config: RunConfig, seams: RunSeams, progress: Progress) -> None:
        self.config = config
        self.experiment = config.experiment
        self.folder = config.folder
        self._seams = seams
        self._progress = progress
        self._events: EventLog | None = None
        self._endpoints: Endpoints | None = None

    def execute(self) -> Result:
        self.folder.refuse_used()
        self.folder.path.mkdir(parents=True, exist_ok=True)
        # the run that '<= +10%' objectives compare with, read before anything starts.
        compare_to = self.experiment.scoring.compare_to
        reference = load_reference(compare_to) if compare_to is not None else None
        processes = ProcessGroup(self.folder.pids, registry_dir=self._seams.registry_dir())
        platform = self._seams.make_platform(self.config, processes)
        self._events = EventLog(self.folder.events)
        self._record(
            RunStarted(
                wall=self._seams.clock(),
                run_id=self.config.run_id,
                experiment=self.experiment,
                platform=platform.name,
                peakday_version=__version__,
                environment=self._environment(platform),
            )
        )
        status: RunStatus = "completed"
        failure: BaseException | None = None
        with Teardown(self._record, self._seams.clock) as teardown:
            try:
                status = self._go(teardown, platform, processes, reference)
            except KeyboardInterrupt:
                status = "interrupted"
                self._progress.message("interrupted: rolling back faults and stopping everything")
            except BaseException as exc:
                status, failure = "error", exc
            finally:  # the teardown is next: a later press has nothing left to stop
                if self._seams.manual_stops is not None:
                    self._seams.manual_stops.close()
        self._record(
            RunEnded(
                wall=self._seams.clock(),
                status=status,
                error=str(failure) if failure is not None else None,
            )
        )
        self._events.close()
        result = write_assembled(self.folder, reference)
        if failure is not None:
            if isinstance(failure, PeakdayError):
                raise failure
            raise EnvironmentProblem(f"The run failed: {failure!r}") from failure
        return result

    def _record(self, event: Event) -> None:
        assert self._events is not None
        self._events.write(event)

    def _environment(self, platform: Platform) -> dict[str, str]:
        environment = {
            "peakday": __version__,
            "python": host_platform.python_version(),
            "platform": platform.name,
            "machine": f"{host_platform.system()} {host_platform.machine()}",
            "host": host_platform.node(),
        }
        if platform.runs_storefront:  # the storefront's resilience knobs
            environment.update(storefront_environment(self.experiment))
        return environment

    def _go(
        self,
        teardown: Teardown,
        platform: Platform,
        processes: ProcessGroup,
        reference: ReferenceRun | None,
    ) -> RunStatus:
        """The steps, in start order; the teardown undoes them in reverse."""
        endpoints = self._start_platform(teardown, platform)
        self._sample_resources(teardown, platform)
        self._sample_traffic(teardown, endpoints)
        server = self._server_signals(teardown, platform, processes, endpoints)
        load = self._start_load(teardown, platform, processes, endpoints)
        t0 = load.wait_started()
        self._record(LoadStarted(wall=t0))
        live_timeline = LiveTimeline(self.folder.metrics)
        read_rows = live_timeline.rows
        if server is not None:
            server.begin(t0)
            client_rows = read_rows

            def read_rows() -> tuple[TimelineRow, ...]:
                return (*client_rows(), *live_server_rows(self.folder))

        self._progress.message(f"load started; running for {self.experiment.load.duration:.0f} s")
        injector = self._fault_injector(teardown, platform, endpoints)
        guard = LiveGuard(
            self.experiment,
            read_rows,
            self._record,
            injector.rollback_all,
            self._progress.message,
            reference,
            clock=self._seams.clock,
            forget_before=live_timeline.forget_before,
            server_wait_s=server.cover_bound_s if server is not None else 0.0,
        )
        ticker = _Ticker(
            self.experiment,
            self._seams,
            self._progress,
            load,
            injector,
            guard,
            t0,
            JsonlTail(self.folder.metrics),
            next_tick=self._seams.clock(),
        )
        self._play_faults(ticker, injector, guard, t0)
        ticker.wait_until(t0 + self.experiment.load.duration)
        if guard.run_over:  # ended early on purpose; the teardown stops Locust
            return "stopped"
        if not load.wait_finished(LOAD_END_GRACE_S + self.experiment.load.request_timeout):
            log.warning("Locust did not stop by itself; stopping it")
        return "completed"

    def _start_platform(self, teardown: Teardown, platform: Platform) -> Endpoints:
        # Checked once every service has stopped: registered first, so it runs last.
        teardown.undo("check order integrity", self._check_integrity)
        teardown.undo("stop the platform", platform.stop)  # safe after a failed start
        self._progress.message(f"starting the {platform.name} platform")
        endpoints = platform.start()
        self._endpoints = endpoints
        self._record(
            PlatformReady(
                wall=self._seams.clock(),
                toxiproxy_api=endpoints.toxiproxy_api,
                toxiproxy_version=platform.toxiproxy().version(),
                services=dict(endpoints.services),
                proxies=dict(endpoints.proxies),
            )
        )
        return endpoints

    def _sample_resources(self, teardown: Teardown, platform: Platform) -> None:
        """CPU and memory per service each second, where the platform can see them."""
        probe = platform.resource_probe()
        if probe is None:
            return
        sampler = ResourceSampler(probe, self.folder.resources)
        teardown.undo("stop sampling resources", sampler.stop)
        sampler.start()

    def _sample_traffic(self, teardown: Teardown, endpoints: Endpoints) -> None:
        """Bytes and open connections per proxy each second, so a fault on a proxy nothing used
        is never scored (scoring.reach); a server without metrics is recorded as not measured."""
        sampler = TrafficSampler(
            self._seams.make_traffic_probe(endpoints.toxiproxy_api, endpoints.proxies),
            self.folder.traffic,
            sorted(endpoints.proxies),
            clock=self._seams.clock,
        )
        # stopped after Locust (its last bytes counted), before the platform takes Toxiproxy
        teardown.undo("stop sampling traffic", sampler.stop)
        sampler.start()

    def _server_signals(
        self, teardown: Teardown, platform: Platform, processes: ProcessGroup, endpoints: Endpoints
    ) -> ServerSampler | None:
        """Prometheus ready and every query checked before any load (`monitoring:`); the
        sampler is stopped after Locust, before the platform stops the server."""
        if self.experiment.monitoring is None:
            return None
        self._progress.message("getting Prometheus ready")
        monitoring = ready_monitoring(
            self.experiment,
            processes,
            self.folder,
            endpoints.services,
            self.config.tools_dirs,
            self.config.alert_rules,
            self._seams.make_prometheus_api,
            platform.prometheus_server(),
        )
        self._progress.message(f"Prometheus at {monitoring.url}")
        sampler = server_sampler(self.experiment, monitoring, self.folder, self._seams.clock)
        teardown.undo("stop reading Prometheus", sampler.stop)
        return sampler

    def _start_load(
        self,
        teardown: Teardown,
        platform: Platform,
        processes: ProcessGroup,
        endpoints: Endpoints,
    ) -> LoadProcess:
        load_spec = self.experiment.load
        user_classes = locust_user_classes(self.experiment, platform.runs_storefront)
        plan = plan_from_load(load_spec, str(self.folder.metrics.resolve()), user_classes)
        self.folder.load_plan.write_text(plan.to_json())
        distribution = distribution_for(
            load_spec.workers, load_spec.external_workers, load_spec.master_bind
        )
        env = {**endpoints.locust_env(), **integrity_env(self.config)}
        load = self._seams.make_load(
            LoadRequest(
                processes=processes,
                config=self.config,
                plan_path=self.folder.load_plan,
                env=env,
                host=endpoints.host_for_locust,
                distribution=distribution,
                workers=platform.load_workers(),
            )
        )
        if distribution.external_workers:  # before the master starts, so workers can start too
            self.folder.worker_env.write_text(format_worker_env(env))
        teardown.undo("stop Locust", load.stop)
        self._progress.message("starting Locust")
        load.start()
        if distribution.external_workers:
            self._progress.message(
                external_workers_message(
                    load.master_address, distribution.external_workers, self.folder.worker_env
                )
            )
        return load

    def _fault_injector(
        self, teardown: Teardown, platform: Platform, endpoints: Endpoints
    ) -> FaultInjector:
        # service-level faults through each service's admin endpoint.
        behaviours = AdminEndpoints(endpoints.admin) if endpoints.admin else None
        if behaviours is not None:  # closed after the rollback, which may use it
            teardown.undo("close the admin endpoints", behaviours.close)
        toxiproxy = platform.toxiproxy()
        injector = FaultInjector(
            toxiproxy,
            self.experiment.faults,
            self._record,
            clock=self._seams.clock,
            services=platform.services(),
            behaviours=behaviours,
        )

        def no_toxic_left() -> None:
            left = {proxy: names for proxy, names in toxiproxy.active_toxics().items() if names}
            self._record(ToxicsAfterRollback(wall=self._seams.clock(), toxics=left))
            if left:
                toxiproxy.reset()

        teardown.undo("check no toxic is left", no_toxic_left)
        teardown.undo("roll back faults", injector.rollback_all)
        return injector

    def _play_faults(
        self, ticker: _Ticker, injector: FaultInjector, guard: LiveGuard, t0: float
    ) -> None:
        """Each action at its time, moved later by however long the steady-state check waited
        for Prometheus (so each fault keeps its length and its place after the others); a fault
        moved past the load's end is skipped. Applied and removed times are recorded as they
        happen, and the phases are cut from them, as for any late action."""
        duration_s = self.experiment.load.duration
        shift_s = 0.0
        moved_past_end: set[int] = set()
        for action in plan_actions(self.experiment.faults):
            if action.fault_index in moved_past_end:
                continue
            if action.kind == "apply" and shift_s > 0 and action.at_s + shift_s >= duration_s:
                moved_past_end.add(action.fault_index)
                self._record(
                    FaultsSkipped(
                        wall=self._seams.clock(),
                        fault_indices=(action.fault_index,),
                        reason=(
                            f"the {shift_s:.1f} s wait for Prometheus to cover the baseline "
                            "moved it past the load's end"
                        ),
                    )
                )
                continue
            ticker.wait_until(t0 + action.at_s + shift_s)
            if action.kind == "apply":
                shift_s += self._await_baseline(ticker, guard, t0)
            if not guard.allows(action.kind, action.fault_index, self._seams.clock() - t0):
                continue
            label = self.experiment.faults[action.fault_index].label
            if action.kind == "apply":
                injector.apply(action.fault_index)
                self._progress.message(f"fault on: {label}")
            else:
                injector.remove(action.fault_index)
                self._progress.message(f"fault off: {label}")

    def _await_baseline(self, ticker: _Ticker, guard: LiveGuard, t0: float) -> float:
        """Tick while the steady-state check waits for Prometheus (bounded by the guard);
        how long it waited."""
        started = self._seams.clock()
        if not guard.baseline_pending(started - t0):
            return 0.0  # nothing to wait for (or already checked): the schedule stays as planned
        while True:
            deadline = self._seams.clock() + BASELINE_POLL_S
            ticker.wait_until(deadline)
            if self._seams.clock() < deadline:  # the run ended or the load stopped meanwhile
                break
            if not guard.baseline_pending(self._seams.clock() - t0):
                break
        return self._seams.clock() - started

    def _check_integrity(self) -> None:
        """Reconcile the journeys' confirmations with the stores, once everything stopped."""
        endpoints = self._endpoints
        if endpoints is None or not self.experiment.storefront.integrity:
            return
        if not endpoints.data_dirs:
            return
        report = check_run(self.folder.confirmations, endpoints.data_dirs)
        self._record(IntegrityChecked(wall=self._seams.clock(), report=report))


@dataclass
class _Ticker:
    """Waits for a moment of the run while, once a second, showing progress and letting the
    guard judge the stop conditions."""

    experiment: Experiment
    seams: RunSeams
    progress: Progress
    load: LoadProcess
    injector: FaultInjector
    guard: LiveGuard
    t0: float
    metrics_tail: JsonlTail
    next_tick: float

    def wait_until(self, wall_deadline: float) -> None:
        duration_s = self.experiment.load.duration
        while True:
            now = self.seams.clock()
            manual = self.seams.manual_stops
            if manual is not None:  # a stop button: acted on within one loop turn (~20 ms)
                for stop in manual.take():
                    self.guard.manual_stop(stop, now - self.t0)
            if now >= wall_deadline or self.guard.run_over:
                return
            if not self.load.alive():
                if now < self.t0 + duration_s - 1.0:
                    raise EnvironmentProblem(
                        f"Locust exited {now - self.t0:.1f} s into a {duration_s:.0f} s run. "
                        f"Hint: see {self.load.log_path}."
                    )
                return
            if now >= self.next_tick:
                labels = [self.experiment.faults[i].label for i in sorted(self.injector.active)]
                if self.progress.wants_rows:
                    latest = timeline_from_records(self.metrics_tail.read_new())
                    if latest:
                        self.progress.rows(latest)
                self.progress.tick(now - self.t0, duration_s, labels)
                self.guard.tick(now - self.t0)  # may roll back every fault, or end the run
                self.next_tick += self.seams.say_every_s
            poll_s = LOOP_POLL_S if manual is None else STOP_BUTTON_POLL_S
            self.seams.sleep(max(0.0, min(poll_s, wall_deadline - now, self.next_tick - now)))
