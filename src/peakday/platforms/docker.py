"""The storefront and Toxiproxy in containers, on one network per run, through the Docker SDK.

Every container and the network carry labels naming the run, the experiment and the
orchestrating process, so `peakday clean` can find what a crashed run left. Ports are published
on 127.0.0.1 only, at host ports chosen up front so they survive container restarts. Inside the
network, services reach auth through the Toxiproxy container by DNS name, on the topology's
fixed proxy ports: the wiring compose/docker-compose.yml uses too. With load.workers, Locust
workers run as containers on the same network (docker_workers.py).

Each service runs in the network namespace of a small holder container, which owns the service's
name on the network and its published ports, as a pod's sandbox does. Killing or stopping the
service therefore leaves its name resolving and its port refusing connections at once, as a
killed process does on the local platform. A service with its own endpoint would take its name
with it: Toxiproxy's lookups of the name would go on to the host's DNS servers, and where those
do not answer each one hangs for Go's whole lookup timeout (2 tries of 5 s): a killed service
would look like a slow one, and how it looked would depend on the machine's DNS.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from peakday.errors import ServiceStartError
from peakday.faults.services import ServiceController
from peakday.faults.toxiproxy import ToxiproxyApi, ToxiproxyHttpClient
from peakday.faults.traffic import TOXIPROXY_METRICS_ARGS
from peakday.images.build import prometheus_image, runtime_images
from peakday.platforms.base import Endpoints, started_toxiproxy
from peakday.platforms.docker_client import ContainerEngine, ContainerSpec, stop_gracefully
from peakday.platforms.docker_names import SERVICE_LABEL, container_name, network_name, run_labels
from peakday.platforms.docker_prometheus import DockerPrometheus
from peakday.platforms.docker_services import (
    SERVICE_STOP_GRACE_S,
    DockerResourceProbe,
    DockerServices,
)
from peakday.platforms.docker_workers import DockerWorkers
from peakday.platforms.resources import ResourceProbe
from peakday.processes.children import free_loopback_ports
from peakday.processes.waiting import http_ok, poll_until
from peakday.results.folder import RunFolder
from peakday.topology import (
    CONTAINER_TOXIPROXY_NAME,
    Topology,
    admin_args,
    container_admin_port,
    container_command,
    container_data_dir,
    container_upstream,
)

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 30.0
# The storefront image runs as this user; bind-mounted data folders must be writable by it.
STOREFRONT_UID = 10001


@dataclass(frozen=True)
class DockerLayout:
    """The containers of one run and the host ports they publish (pure data)."""

    network: str
    toxiproxy: ContainerSpec
    services: tuple[ContainerSpec, ...]
    api_host_port: int
    proxy_host_ports: Mapping[str, int]
    service_host_ports: Mapping[str, int]
    data_dirs: Mapping[str, str]
    # service -> host port its admin endpoint is published on (127.0.0.1 only).
    admin_host_ports: Mapping[str, int] = dataclasses.field(default_factory=dict)
    # one per service, in the same order: holds its network namespace (name, address, ports).
    network_holders: tuple[ContainerSpec, ...] = ()


# What a network holder runs: nothing, until told to stop (pid 1 ignores an untrapped SIGTERM,
# which would make every stop wait out the grace period).
NETWORK_HOLDER_COMMAND = ("sh", "-c", "trap 'exit 0' TERM INT; sleep infinity & wait")


def network_holder_name(run_id: str, service: str) -> str:
    return container_name(run_id, f"{service}-net")


def plan_layout(
    topology: Topology,
    *,
    run_id: str,
    labels: Mapping[str, str],
    run_dir: Path,
    host_ports: list[int],
    auth_timeout_s: float,
    images: tuple[str, str] | None = None,
    storefront_extra: Sequence[str] = (),
    admin_host_ports: Mapping[str, int] | None = None,
) -> DockerLayout:
    """Container specs for a run (pure): Toxiproxy publishes its API and every proxy port."""
    storefront_image, toxiproxy_image = images or runtime_images()
    network = network_name(run_id)
    needed = 1 + len(topology.proxies) + len(topology.services)
    if len(host_ports) != needed:
        raise ValueError(f"need {needed} host ports, got {len(host_ports)}")
    api_port, *rest = host_ports
    proxy_ports = dict(zip(topology.proxy_names, rest[: len(topology.proxies)], strict=True))
    service_ports = dict(zip(topology.service_names, rest[len(topology.proxies) :], strict=True))
    toxiproxy = ContainerSpec(
        name=container_name(run_id, "toxiproxy"),
        image=toxiproxy_image,
        network=network,
        labels={**labels, SERVICE_LABEL: "toxiproxy"},
        # after the image's entrypoint (the server, listening on 0.0.0.0): per-proxy byte counters
        command=("-host=0.0.0.0", *TOXIPROXY_METRICS_ARGS),
        aliases=(CONTAINER_TOXIPROXY_NAME,),
        ports={
            topology.toxiproxy_api_port: api_port,
            **{
                topology.proxy(name).default_listen_port: port for name, port in proxy_ports.items()
            },
        },
    )
    services = []
    holders = []
    data_dirs: dict[str, str] = {}
    for service in topology.services:
        host_dir = RunFolder(run_dir).data(service.name).resolve()
        published = {service.default_port: service_ports[service.name]}
        admin: list[str] = []
        if admin_host_ports is not None:
            admin_port = container_admin_port(service)
            admin = admin_args(admin_port, "0.0.0.0")
            published[admin_port] = admin_host_ports[service.name]
        data_dirs[service.name] = str(host_dir)
        command = container_command(
            topology, service, auth_timeout_s=auth_timeout_s, extra=[*storefront_extra, *admin]
        )
        holder = ContainerSpec(
            name=network_holder_name(run_id, service.name),
            image=storefront_image,
            network=network,
            labels={**labels, SERVICE_LABEL: f"{service.name}-net"},
            command=NETWORK_HOLDER_COMMAND,
            aliases=(service.name,),
            ports=published,
        )
        holders.append(holder)
        services.append(
            ContainerSpec(
                name=container_name(run_id, service.name),
                image=storefront_image,
                network=network,
                labels={**labels, SERVICE_LABEL: service.name},
                command=tuple(command),
                binds={str(host_dir): container_data_dir(service)},
                network_of=holder.name,
            )
        )
    return DockerLayout(
        network=network,
        toxiproxy=toxiproxy,
        services=tuple(services),
        api_host_port=api_port,
        proxy_host_ports=proxy_ports,
        service_host_ports=service_ports,
        data_dirs=data_dirs,
        admin_host_ports=dict(admin_host_ports or {}),
        network_holders=tuple(holders),
    )


def prepare_data_dir(path: Path) -> None:
    """Make a bind-mounted data folder writable by the container's user (uid 10001)."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        os.chown(path, STOREFRONT_UID, STOREFRONT_UID)
    except PermissionError:
        path.chmod(0o777)  # not root: let any uid write; the folder lives in this run's results


class DockerPlatform:
    name = "docker"
    runs_storefront = True

    def __init__(
        self,
        topology: Topology,
        run_dir: Path,
        engine: ContainerEngine,
        *,
        run_id: str,
        experiment: str,
        auth_timeout_s: float = 2.0,
        images: tuple[str, str] | None = None,
        toxiproxy_client: Callable[[str, int], ToxiproxyApi] = ToxiproxyHttpClient,
        health_timeout_s: float = HEALTH_TIMEOUT_S,
        storefront_extra: Sequence[str] = (),
        admin_endpoints: bool = True,
        prometheus: str | None = None,
    ) -> None:
        self._prometheus_image = prometheus or prometheus_image()
        self._storefront_extra = tuple(storefront_extra)
        self._admin_endpoints = admin_endpoints
        self._topology = topology
        self._run_dir = run_dir
        self._engine = engine
        self._run_id = run_id
        self._experiment = experiment
        self._auth_timeout_s = auth_timeout_s
        self._images = images
        self._toxiproxy_client = toxiproxy_client
        self._health_timeout_s = health_timeout_s
        self._toxiproxy: ToxiproxyApi | None = None
        self._layout: DockerLayout | None = None
        self._network: str | None = None
        self._containers: list[str] = []
        self._workers: DockerWorkers | None = None

    @property
    def container_names(self) -> dict[str, str]:
        """Service name -> container name, once started."""
        if self._layout is None:
            return {}
        specs = (self._layout.toxiproxy, *self._layout.services)
        return {spec.labels[SERVICE_LABEL]: spec.name for spec in specs}

    def toxiproxy(self) -> ToxiproxyApi:
        return started_toxiproxy(self._toxiproxy)

    def services(self) -> ServiceController:
        return DockerServices(self._engine, self.container_names)

    def resource_probe(self) -> ResourceProbe:
        names = self.container_names
        return DockerResourceProbe(
            self._engine, {s: names[s] for s in self._topology.service_names}
        )

    def load_workers(self) -> DockerWorkers:
        """Locust workers as containers on this run's network (docker_workers.py)."""
        if self._workers is None:
            labels = run_labels(self._run_id, self._experiment, self._run_dir)
            image = (self._images or runtime_images())[0]
            self._workers = DockerWorkers(
                self._engine, self._topology, run_id=self._run_id, labels=labels, image=image
            )
        return self._workers

    def prometheus_server(self) -> DockerPrometheus:
        """`monitoring: prometheus` as a container on this run's network (docker_prometheus.py);
        started once the storefront is up, removed by stop() like the others."""
        return DockerPrometheus(
            self._engine,
            self._topology,
            run_id=self._run_id,
            image=self._prometheus_image,
            network=network_name(self._run_id),
            labels=run_labels(self._run_id, self._experiment, self._run_dir),
            run_container=self._run_container,
        )

    def start(self) -> Endpoints:
        labels = run_labels(self._run_id, self._experiment, self._run_dir)
        needed = 1 + len(self._topology.proxies) + len(self._topology.services)
        ports = free_loopback_ports(needed + len(self._topology.services))
        admin_ports = dict(zip(self._topology.service_names, ports[needed:], strict=True))
        layout = plan_layout(
            self._topology,
            run_id=self._run_id,
            labels=labels,
            run_dir=self._run_dir,
            host_ports=ports[:needed],
            auth_timeout_s=self._auth_timeout_s,
            images=self._images,
            storefront_extra=self._storefront_extra,
            admin_host_ports=admin_ports if self._admin_endpoints else None,
        )
        self._layout = layout
        for host_dir in layout.data_dirs.values():
            prepare_data_dir(Path(host_dir))
        # Record each thing before creating it, so stop() removes even a half-made run.
        self._network = layout.network
        self._engine.create_network(layout.network, labels)
        self._run_container(layout.toxiproxy)
        api_url = f"http://127.0.0.1:{layout.api_host_port}"
        self._wait_healthy(layout.toxiproxy.name, f"{api_url}/version")
        toxiproxy = self._toxiproxy_client("127.0.0.1", layout.api_host_port)
        self._toxiproxy = toxiproxy
        # Toxiproxy dials upstreams per connection, so proxies may exist before their services.
        for route in self._topology.proxies:
            toxiproxy.create_proxy(
                route.name,
                f"0.0.0.0:{route.default_listen_port}",
                container_upstream(self._topology, route),
            )
        for holder, spec in zip(layout.network_holders, layout.services, strict=True):
            self._run_container(holder)
            self._run_container(spec)
        urls = {
            name: f"http://127.0.0.1:{port}" for name, port in layout.service_host_ports.items()
        }
        for spec in layout.services:
            self._wait_healthy(spec.name, f"{urls[spec.labels[SERVICE_LABEL]]}/health")
        return Endpoints(
            toxiproxy_api=f"127.0.0.1:{layout.api_host_port}",
            services=urls,
            proxies={name: f"127.0.0.1:{port}" for name, port in layout.proxy_host_ports.items()},
            data_dirs=dict(layout.data_dirs),
            admin={
                name: f"http://127.0.0.1:{port}" for name, port in layout.admin_host_ports.items()
            },
        )

    def _run_container(self, spec: ContainerSpec) -> None:
        self._containers.append(spec.name)
        self._engine.run(spec)

    def _wait_healthy(self, name: str, url: str) -> None:
        def running() -> bool:
            return self._engine.status(name) == "running"

        if poll_until(
            http_ok(url),
            timeout_s=self._health_timeout_s,
            interval_s=0.1,
            still_worth_waiting=running,
        ):
            return
        status = self._engine.status(name)
        raise ServiceStartError(
            f"Container {name!r} did not answer 200 at {url} within "
            f"{self._health_timeout_s:.0f} s (container status: {status}). "
            f"Last lines of its log:\n{self._engine.logs_tail(name, 30)}\n"
            "Hint: if the log shows an import error, rebuild the images "
            "('peakday images build --offline'); if it is empty, check 'docker info' and that "
            "127.0.0.1 ports can be published."
        )

    def stop(self) -> None:
        """Stop services gracefully (their SQLite stores close cleanly), then remove every
        container and the network. Never raises; safe to call twice."""
        if self._workers is not None:
            self._workers.stop()  # normally gone already (Locust stops them); on the network
        for name in reversed(self._containers):
            stop_gracefully(self._engine, name, SERVICE_STOP_GRACE_S)
            try:
                self._engine.remove(name)
            except Exception as exc:
                log.error("could not remove container %s: %s", name, exc)
        self._containers.clear()
        if self._network is not None:
            try:
                self._engine.remove_network(self._network)
            except Exception as exc:
                log.error("could not remove network %s: %s", self._network, exc)
            self._network = None
        self._toxiproxy = None
