"""The image half of the Docker adapter: connecting to the engine, and the ImageEngine Protocol
with its SDK adapter (build, import, presence and size of images).

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

from peakday.errors import EnvironmentProblem

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
