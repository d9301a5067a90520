"""Docker tests: skipped without an engine, failed instead when PEAKDAY_REQUIRE_DOCKER=1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from peakday.errors import EnvironmentProblem
from peakday.images.engine import DockerImageEngine
from peakday.platforms.docker_client import DockerContainerEngine

REPO_ROOT = Path(__file__).resolve().parents[2]


def _connect() -> DockerImageEngine:
    from peakday.images.engine import connect_docker

    try:
        return connect_docker()
    except EnvironmentProblem as error:
        if os.environ.get("PEAKDAY_REQUIRE_DOCKER") == "1":
            pytest.fail(f"PEAKDAY_REQUIRE_DOCKER=1 but there is no Docker engine: {error}")
        pytest.skip(f"no Docker engine: {error}")


@pytest.fixture(scope="session")
def docker_images() -> DockerImageEngine:
    """An engine holding the current runtime images (built offline, cached, when missing or
    stale: a build with nothing changed takes about a second). PEAKDAY_REUSE_IMAGES=1 uses the
    images present as they are, where they are all there."""
    from peakday.images.build import build_images, missing_images, prometheus_image, runtime_images
    from peakday.images.build_contexts import BuildPaths
    from peakday.images.host_toolchain import default_toolchain

    engine = _connect()
    paths = BuildPaths.for_project(REPO_ROOT)
    prometheus = shutil.which("prometheus")  # peakday/prometheus too, where Debian's is here
    wanted = [*runtime_images(), *([prometheus_image()] if prometheus else [])]
    if os.environ.get("PEAKDAY_REUSE_IMAGES") == "1" and not missing_images(engine, wanted):
        return engine  # images other worktrees share: use them as they are
    build_images(
        True,
        engine=engine,
        toolchain=default_toolchain(paths.log_dir, sys.executable),
        paths=paths,
        prometheus_binary=Path(prometheus) if prometheus else None,
    )
    return engine


@pytest.fixture(scope="session")
def containers(docker_images: DockerImageEngine) -> DockerContainerEngine:
    return DockerContainerEngine(docker_images.client)


@pytest.fixture(scope="session")
def compose_cli(docker_images: object) -> None:
    """The compose plugin answers (the images are current, via docker_images)."""
    try:
        found = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
        problem = None if found.returncode == 0 else (found.stderr or found.stdout).strip()
    except (OSError, subprocess.TimeoutExpired) as error:
        problem = str(error)
    if problem is None:
        return
    message = f"'docker compose' does not work: {problem}. Hint: run .ci/install-compose."
    if os.environ.get("PEAKDAY_REQUIRE_DOCKER") == "1":
        pytest.fail(f"PEAKDAY_REQUIRE_DOCKER=1 but {message}")
    pytest.skip(message)
