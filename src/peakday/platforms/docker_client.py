"""The only code that talks to the Docker engine: small Protocols (images; containers and
networks) and their SDK adapters.

Builds never pull: `pull=False`, and callers check that base images are present first, because the
classic builder the SDK drives would otherwise fetch a missing FROM image from a registry.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from peakday.errors import EnvironmentProblem, ImageMissing

logger = logging.getLogger(__name__)

START_ENGINE_HINT = (
    "Hint: start a Docker engine (in a peakday checkout: '.ci/start-dockerd'; elsewhere e.g. "
    "'sudo systemctl start docker') and check that 'docker info' works."
)


@dataclass(frozen=True)
class BuildRequest:
    """One `docker build` of a prepared context directory; plain data so tests can compare it."""

    tag: str
    context_dir: Path
    dockerfile: str  # relative to context_dir
    buildargs: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportRequest:
    """One `docker import` of a root filesystem tarball as a single-layer image."""

    tag: str
    tarball: Path
    # Dockerfile instructions applied to the imported image, e.g. 'LABEL a=b', 'CMD ["sh"]'.
    changes: tuple[str, ...] = ()


class ImageEngine(Protocol):
    """What peakday needs from a container engine to build and check its images."""

    def has_image(self, reference: str) -> bool: ...

    def build(self, request: BuildRequest) -> str:
        """Build and tag the image; return its id. Never pulls."""
        ...

    def import_tarball(self, request: ImportRequest) -> str:
        """Import a root filesystem tarball and tag it; return the image id."""
        ...

    def image_size_bytes(self, reference: str) -> int: ...


def connect_docker(base_url: str | None = None, timeout_s: float = 10.0) -> DockerImageEngine:
    """Connect to the engine named by DOCKER_HOST (read now, not at import) or to `base_url`.

    Raises EnvironmentProblem when no engine answers.
    """
    import docker  # imported here: the SDK is slow to import and only Docker commands need it

    try:
        if base_url is None:
            client = docker.from_env(timeout=int(timeout_s))
        else:
            client = docker.DockerClient(base_url=base_url, timeout=int(timeout_s))
        client.ping()
    except docker.errors.DockerException as error:
        where = base_url or "the address in DOCKER_HOST (default unix:///var/run/docker.sock)"
        raise EnvironmentProblem(
            f"No Docker engine answered at {where}: {error}. {START_ENGINE_HINT}"
        ) from error
    return DockerImageEngine(client)


class DockerImageEngine:
    """ImageEngine over a `docker.DockerClient`."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        """The underlying `docker.DockerClient`, for code that manages containers."""
        return self._client

    def has_image(self, reference: str) -> bool:
        import docker

        try:
            self._client.images.get(reference)
        except docker.errors.ImageNotFound:
            return False
        return True

    def image_size_bytes(self, reference: str) -> int:
        return int(self._client.images.get(reference).attrs["Size"])

    def build(self, request: BuildRequest) -> str:
        import docker

        recent_output: deque[str] = deque(maxlen=25)
        try:
            chunks = self._client.api.build(
                path=str(request.context_dir),
                dockerfile=request.dockerfile,
                tag=request.tag,
                buildargs=dict(request.buildargs),
                labels=dict(request.labels),
                pull=False,
                rm=True,
                forcerm=True,
                # RUN steps get no network at all: everything they install comes from the context.
                network_mode="none",
                use_config_proxy=False,
                decode=True,
            )
            for chunk in chunks:
                _log_build_chunk(chunk, recent_output)
                if "error" in chunk:
                    raise _build_failed(request, str(chunk["error"]).strip(), recent_output)
        except docker.errors.APIError as error:
            raise _build_failed(request, str(error), recent_output) from error
        return str(self._client.images.get(request.tag).id)

    def import_tarball(self, request: ImportRequest) -> str:
        import docker

        repository, tag = _split_reference(request.tag)
        try:
            self._client.api.import_image_from_file(
                str(request.tarball), repository=repository, tag=tag, changes=list(request.changes)
            )
        except docker.errors.APIError as error:
            raise EnvironmentProblem(
                f"Importing {str(request.tarball)!r} as image {request.tag!r} failed: {error}."
            ) from error
        return str(self._client.images.get(request.tag).id)


def _log_build_chunk(chunk: Mapping[str, Any], recent_output: deque[str]) -> None:
    text = chunk.get("stream") or chunk.get("status") or ""
    for line in str(text).splitlines():
        if line.strip():
            recent_output.append(line.rstrip())
            logger.debug("docker build: %s", line.rstrip())


def _build_failed(
    request: BuildRequest, reason: str, recent_output: Sequence[str]
) -> EnvironmentProblem:
    output = "\n".join(recent_output) or "(no output)"
    return EnvironmentProblem(
        f"Building image {request.tag!r} from {str(request.context_dir)!r} failed: {reason}\n"
        f"Last build output:\n{output}\n"
        "Hint: builds never pull; check that the base image exists locally ('docker images') "
        "and re-run with logging at DEBUG for the full build output."
    )


def _split_reference(reference: str) -> tuple[str, str]:
    """'registry:5000/name:tag' -> ('registry:5000/name', 'tag'); no tag means 'latest'."""
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag:
        return reference, "latest"
    return name, tag


# ---------------------------------------------------------------------------------------------
# Containers and networks, for the Docker platform and `peakday clean`


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
            from peakday.platforms.images import format_missing_runtime_images

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
