"""The container half of the Docker adapter: the ContainerEngine Protocol (containers and
networks) and its SDK adapter, for the Docker platform and `peakday clean`.

The engine connection comes from `images.engine.connect_docker` (its `client`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from peakday.errors import EnvironmentProblem, ImageMissing
from peakday.images.build import format_missing_runtime_images


@dataclass(frozen=True)
class ContainerSpec:
    """One container to create and start; plain data so tests can compare it."""

    name: str
    image: str
    network: str
    labels: Mapping[str, str]
    command: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()  # DNS names on `network`
    ports: Mapping[int, int] = field(default_factory=dict)  # container port -> 127.0.0.1 port
    binds: Mapping[str, str] = field(default_factory=dict)  # host path -> container path
    read_only_binds: Mapping[str, str] = field(default_factory=dict)  # host path -> container path
    environment: Mapping[str, str] = field(default_factory=dict)
    user: str | None = None  # "uid:gid"; None: the image's user
    hostname: str | None = None
    # Join this container's network namespace (its address, names and published ports) instead
    # of getting an endpoint on `network`; aliases, ports and hostname must then be empty.
    network_of: str | None = None


@dataclass(frozen=True)
class ContainerStats:
    """Cumulative counters from one `docker stats` reading (CPU % needs two readings)."""

    cpu_total_ns: int
    system_cpu_ns: int
    online_cpus: int
    memory_bytes: int


@dataclass(frozen=True)
class FoundContainer:
    name: str
    status: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class FoundNetwork:
    name: str
    labels: Mapping[str, str]


class ContainerEngine(Protocol):
    """What the Docker platform and `peakday clean` need from a container engine."""

    def create_network(self, name: str, labels: Mapping[str, str]) -> None: ...

    def remove_network(self, name: str) -> bool:
        """Remove the network; False when it did not exist."""
        ...

    def network_gateway(self, name: str) -> str:
        """The host's address on the network (its IPAM gateway), which its containers reach."""
        ...

    def run(self, spec: ContainerSpec) -> None:
        """Create and start the container; never pulls (a missing image is ImageMissing)."""
        ...

    def remove(self, name: str) -> bool:
        """Remove the container, running or not; False when it did not exist."""
        ...

    def status(self, name: str) -> str:
        """'running', 'exited', 'paused', ... or 'missing'."""
        ...

    def logs_tail(self, name: str, lines: int = 30) -> str: ...

    def act(self, name: str, action: str, grace_s: int = 2) -> None:
        """One of kill, stop, start, pause, unpause, restart."""
        ...

    def stats(self, name: str) -> ContainerStats | None:
        """One reading, or None when the container is not running."""
        ...

    def find_containers(self, labels: Mapping[str, str]) -> list[FoundContainer]: ...

    def find_networks(self, labels: Mapping[str, str]) -> list[FoundNetwork]: ...


CONTAINER_ACTIONS = ("kill", "stop", "start", "pause", "unpause", "restart")


def stop_gracefully(engine: ContainerEngine, name: str, grace_s: int) -> None:
    """Stop a running or paused container (unpaused first: a paused one cannot be stopped),
    giving its process `grace_s` to exit; anything else is left alone. Never raises."""
    with contextlib.suppress(Exception):
        if engine.status(name) == "paused":
            engine.act(name, "unpause")
        if engine.status(name) == "running":
            engine.act(name, "stop", grace_s=grace_s)


def _label_filters(labels: Mapping[str, str]) -> dict[str, list[str]]:
    return {"label": [f"{key}={value}" if value else key for key, value in labels.items()]}


class DockerContainerEngine:
    """ContainerEngine over a `docker.DockerClient`."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def create_network(self, name: str, labels: Mapping[str, str]) -> None:
        self._client.networks.create(name, driver="bridge", labels=dict(labels))

    def remove_network(self, name: str) -> bool:
        import docker

        try:
            self._client.networks.get(name).remove()
        except docker.errors.NotFound:
            return False
        return True

    def network_gateway(self, name: str) -> str:
        attrs = self._client.networks.get(name).attrs
        for config in (attrs.get("IPAM") or {}).get("Config") or []:
            gateway = str(config.get("Gateway") or "").split("/")[0]
            if gateway and ":" not in gateway:  # the IPv4 one: Locust's workers dial IPv4
                return gateway
        raise EnvironmentProblem(
            f"The Docker network {name!r} has no IPv4 gateway in its IPAM config "
            f"({attrs.get('IPAM')!r}), so its containers cannot reach a process on this machine. "
            "Hint: check the engine's default address pools ('docker network inspect')."
        )

    def run(self, spec: ContainerSpec) -> None:
        import docker

        api = self._client.api
        networking: dict[str, Any]
        if spec.network_of is not None:  # names, ports and hostname are the owner's
            networking = {"network_mode": f"container:{spec.network_of}"}
        else:
            networking = {
                "network": spec.network,
                "networking_config": {
                    spec.network: api.create_endpoint_config(aliases=list(spec.aliases))
                },
                "ports": {f"{port}/tcp": ("127.0.0.1", host) for port, host in spec.ports.items()},
                "hostname": spec.hostname,
            }
        try:
            # create + start, not containers.run(): run() pulls an image it cannot find.
            container = self._client.containers.create(
                spec.image,
                command=list(spec.command) if spec.command is not None else None,
                name=spec.name,
                labels=dict(spec.labels),
                **networking,
                volumes={
                    **{host: {"bind": inside, "mode": "rw"} for host, inside in spec.binds.items()},
                    **{
                        host: {"bind": inside, "mode": "ro"}
                        for host, inside in spec.read_only_binds.items()
                    },
                },
                environment=dict(spec.environment),
                user=spec.user,
                detach=True,
            )
        except docker.errors.ImageNotFound as error:
            raise ImageMissing(format_missing_runtime_images([spec.image])) from error
        try:
            container.start()
        except docker.errors.APIError as error:
            raise EnvironmentProblem(
                f"Container {spec.name!r} from {spec.image!r} was created but would not start: "
                f"{error}. Hint: a published port may be taken on 127.0.0.1 ({dict(spec.ports)})."
            ) from error

    def remove(self, name: str) -> bool:
        import docker

        try:
            self._client.containers.get(name).remove(force=True, v=True)
        except docker.errors.NotFound:
            return False
        return True

    def status(self, name: str) -> str:
        import docker

        try:
            container = self._client.containers.get(name)
        except docker.errors.NotFound:
            return "missing"
        return str(container.status)

    def logs_tail(self, name: str, lines: int = 30) -> str:
        import docker

        try:
            raw = self._client.containers.get(name).logs(tail=lines)
        except docker.errors.NotFound:
            return "(the container is gone)"
        return bytes(raw).decode(errors="replace").rstrip() or "(log is empty)"

    def act(self, name: str, action: str, grace_s: int = 2) -> None:
        if action not in CONTAINER_ACTIONS:
            raise ValueError(f"Unknown container action {action!r}.")
        container = self._client.containers.get(name)
        if action in ("stop", "restart"):
            getattr(container, action)(timeout=grace_s)
        else:
            getattr(container, action)()

    def stats(self, name: str) -> ContainerStats | None:
        import docker

        try:
            raw = self._client.api.stats(name, stream=False, one_shot=True)
        except docker.errors.NotFound:
            return None
        cpu = raw.get("cpu_stats") or {}
        usage = cpu.get("cpu_usage") or {}
        if "total_usage" not in usage:
            return None  # not running: the engine sends an empty reading
        memory = raw.get("memory_stats") or {}
        cache = (memory.get("stats") or {}).get("inactive_file", 0)  # what `docker stats` omits
        return ContainerStats(
            cpu_total_ns=int(usage["total_usage"]),
            system_cpu_ns=int(cpu.get("system_cpu_usage") or 0),
            online_cpus=int(cpu.get("online_cpus") or len(usage.get("percpu_usage") or [1])),
            memory_bytes=max(0, int(memory.get("usage") or 0) - int(cache)),
        )

    def find_containers(self, labels: Mapping[str, str]) -> list[FoundContainer]:
        found = self._client.containers.list(all=True, filters=_label_filters(labels))
        return [FoundContainer(str(c.name), str(c.status), dict(c.labels)) for c in found]

    def find_networks(self, labels: Mapping[str, str]) -> list[FoundNetwork]:
        found = self._client.networks.list(filters=_label_filters(labels))
        return [FoundNetwork(str(n.name), dict(n.attrs.get("Labels") or {})) for n in found]
