"""Locust workers as containers on a docker run's network: the docker platform's LoadWorkers.

The master stays a process on this machine (gevent never enters the orchestrator) and listens on
the network's gateway address, which the run's containers reach and other machines do not. The
workers run the storefront image's Locust with the locustfile and peakday's plugin mounted
read-only, as this machine's user (files they write in the run folder stay the user's), and reach
the services the way the services reach each other: by name, auth through the Toxiproxy container.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from peakday.errors import UsageError
from peakday.load.workers import WILDCARD_HOSTS, WorkerLaunch, locustfiles_arg, plugin_path
from peakday.platforms.base import Endpoints
from peakday.platforms.docker_client import ContainerEngine, ContainerSpec, stop_gracefully
from peakday.platforms.docker_names import SERVICE_LABEL, container_name, network_name
from peakday.topology import CONTAINER_TOXIPROXY_NAME, Topology, is_loopback_host

log = logging.getLogger(__name__)

LOCUSTFILE_DIR = "/peakday/locustfile"
PLUGIN_FILE = "/peakday/plugin/locust_plugin.py"
CONFIRMATIONS_DIR = "/peakday/confirmations"
CONFIRMATIONS_ENV_VAR = "PEAKDAY_CONFIRMATIONS_DIR"
# Workers leave by themselves when the master quits; this is for one that does not.
WORKER_STOP_GRACE_S = 5
LOG_LINES_KEPT = 500


def worker_component(index: int) -> str:
    """The worker's part of its container name, as the local worker processes are named."""
    return f"locust-worker-{index}"


def in_network_env(topology: Topology, run_env: Mapping[str, str]) -> dict[str, str]:
    """The run's worker settings as a container on the run's network must see them: the same
    keys, with the services' and proxies' in-network addresses instead of this machine's
    published loopback ports, and confirmations written to the mounted folder."""
    inside = Endpoints(
        toxiproxy_api=f"{CONTAINER_TOXIPROXY_NAME}:{topology.toxiproxy_api_port}",
        services={s.name: f"http://{s.name}:{s.default_port}" for s in topology.services},
        proxies={
            p.name: f"{CONTAINER_TOXIPROXY_NAME}:{p.default_listen_port}" for p in topology.proxies
        },
    )
    env = {**run_env, **inside.locust_env()}
    if CONFIRMATIONS_ENV_VAR in run_env:
        env[CONFIRMATIONS_ENV_VAR] = CONFIRMATIONS_DIR
    return env


@dataclass(frozen=True)
class WorkerContainer:
    spec: ContainerSpec
    log_path: Path  # where its log is kept once it is removed
    # This worker's own folder for confirmations (every container's Locust is pid 1, and the
    # journeys name their file after the pid), gathered into the run's folder at the end.
    confirmations_dir: Path | None


def plan_worker_containers(
    launch: WorkerLaunch,
    topology: Topology,
    *,
    run_id: str,
    labels: Mapping[str, str],
    image: str,
    user: str,
    plugin: Path | None = None,
) -> tuple[WorkerContainer, ...]:
    """The worker containers of a run (pure)."""
    plugin = plugin or plugin_path()
    locustfile = f"{LOCUSTFILE_DIR}/{launch.locustfile.name}"
    env = in_network_env(topology, launch.env)
    host_confirmations = launch.env.get(CONFIRMATIONS_ENV_VAR)
    command = (
        "locust",
        "-f", locustfiles_arg(locustfile, PLUGIN_FILE),
        "--worker",
        "--master-host", launch.master_host,
        "--master-port", str(launch.master_port),
        "--loglevel", "WARNING",
    )  # fmt: skip
    workers = []
    for index in range(launch.count):
        component = worker_component(index)
        confirmations = None
        binds: dict[str, str] = {}
        if host_confirmations:
            confirmations = Path(host_confirmations) / component
            binds[str(confirmations)] = CONFIRMATIONS_DIR
        name = container_name(run_id, component)
        spec = ContainerSpec(
            name=name,
            image=image,
            network=network_name(run_id),
            labels={**labels, SERVICE_LABEL: component},
            command=command,
            hostname=component,  # Locust names the worker after it in the master's log
            binds=binds,
            read_only_binds={
                str(launch.locustfile.resolve()): locustfile,
                str(plugin.resolve()): PLUGIN_FILE,
            },
            environment=env,
            user=user,
        )
        workers.append(WorkerContainer(spec, launch.log_dir / f"{component}.log", confirmations))
    return tuple(workers)


def gather_confirmations(folder: Path) -> None:
    """Move one worker's confirmation files into the run's folder, where the integrity check
    reads them, named after the worker."""
    for path in sorted(folder.glob("*.jsonl")):
        path.replace(folder.parent / f"{folder.name}-{path.name}")
    with contextlib.suppress(OSError):
        folder.rmdir()


class DockerWorkers:
    """LoadWorkers as containers from the storefront image, labelled like the run's others."""

    def __init__(
        self,
        engine: ContainerEngine,
        topology: Topology,
        *,
        run_id: str,
        labels: Mapping[str, str],
        image: str,
        user: str | None = None,
    ) -> None:
        self._engine = engine
        self._topology = topology
        self._run_id = run_id
        self._labels = dict(labels)
        self._image = image
        self._user = user or f"{os.getuid()}:{os.getgid()}"
        self._started: list[WorkerContainer] = []

    def default_bind_host(self) -> str:
        return self._engine.network_gateway(network_name(self._run_id))

    def dial_host(self, bind_host: str) -> str:
        gateway = self.default_bind_host()
        if bind_host in WILDCARD_HOSTS:
            return gateway
        if is_loopback_host(bind_host):
            raise UsageError(
                f"The Locust master would listen on {bind_host!r}, a loopback address, which "
                "worker containers cannot reach. Hint: leave load.master_bind and --master-bind "
                f"unset (the master then listens on the run network's gateway, {gateway}), or "
                "bind it to 0.0.0.0 when workers from other machines connect as well."
            )
        return bind_host

    def start(self, launch: WorkerLaunch) -> None:
        planned = plan_worker_containers(
            launch,
            self._topology,
            run_id=self._run_id,
            labels=self._labels,
            image=self._image,
            user=self._user,
        )
        for worker in planned:
            if worker.confirmations_dir is not None:
                worker.confirmations_dir.mkdir(parents=True, exist_ok=True)
            self._started.append(worker)  # before creating it, so stop() removes a half-made one
            self._engine.run(worker.spec)

    def failure_detail(self) -> str:
        found = []
        for worker in self._started:
            status = self._engine.status(worker.spec.name)
            if status != "running":
                found.append(
                    f"\nworker container {worker.spec.name!r} is {status}; last lines of its "
                    f"log:\n{self._engine.logs_tail(worker.spec.name, 30)}"
                )
        return "".join(found)

    def stop(self) -> None:
        left: list[WorkerContainer] = []
        for worker in reversed(self._started):
            name = worker.spec.name
            stop_gracefully(self._engine, name, WORKER_STOP_GRACE_S)
            with contextlib.suppress(Exception):
                worker.log_path.parent.mkdir(parents=True, exist_ok=True)
                worker.log_path.write_text(self._engine.logs_tail(name, LOG_LINES_KEPT) + "\n")
            try:
                self._engine.remove(name)
            except Exception as exc:
                log.error("could not remove container %s: %s", name, exc)
                left.insert(0, worker)  # the platform's stop tries again
                continue
            if worker.confirmations_dir is not None:
                with contextlib.suppress(OSError):
                    gather_confirmations(worker.confirmations_dir)
        self._started = left
