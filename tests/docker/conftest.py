"""Docker tests: skipped without an engine, failed instead when PEAKDAY_REQUIRE_DOCKER=1.

The fixtures every docker test shares: the engine, the images a run needs (built offline when
missing or stale), the Compose plugin, and what a run left behind in the engine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from peakday.errors import EnvironmentProblem
from peakday.images.engine import DockerImageEngine
from peakday.platforms.docker_client import DockerContainerEngine

REPO_ROOT = Path(__file__).resolve().parents[2]


def fail_or_skip(message: str) -> NoReturn:
    """Skip the test for lack of `message`'s thing, or fail it where CI requires docker tests."""
    if os.environ.get("PEAKDAY_REQUIRE_DOCKER") == "1":
        pytest.fail(f"PEAKDAY_REQUIRE_DOCKER=1 but {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def docker_engine() -> DockerImageEngine:
    """The local Docker engine, as it is (no image built)."""
    from peakday.images.engine import connect_docker

    try:
        return connect_docker()
    except EnvironmentProblem as error:
        fail_or_skip(f"there is no Docker engine: {error}")


@pytest.fixture(scope="session")
def docker_images(docker_engine: DockerImageEngine) -> DockerImageEngine:
    """An engine holding the current runtime images and the offline Python base (built offline,
    cached, when missing or stale: a build with nothing changed takes about a second).
    PEAKDAY_REUSE_IMAGES=1 uses the images present as they are, where they are all there."""
    from peakday.images.build import (
        OFFLINE_PYTHON_BASE,
        build_images,
        missing_images,
        prometheus_image,
        runtime_images,
    )
    from peakday.images.build_contexts import BuildPaths
    from peakday.images.host_toolchain import default_toolchain

    paths = BuildPaths.for_project(REPO_ROOT)
    prometheus = shutil.which("prometheus")  # peakday/prometheus too, where Debian's is here
    wanted = [
        *runtime_images(),
        OFFLINE_PYTHON_BASE,  # an offline build makes it first; test images start from it
        *([prometheus_image()] if prometheus else []),
    ]
    if os.environ.get("PEAKDAY_REUSE_IMAGES") == "1" and not missing_images(docker_engine, wanted):
        return docker_engine  # images other worktrees share: use them as they are
    build_images(
        True,
        engine=docker_engine,
        toolchain=default_toolchain(paths.log_dir, sys.executable),
        paths=paths,
        prometheus_binary=Path(prometheus) if prometheus else None,
    )
    return docker_engine


@pytest.fixture(scope="session")
def containers(docker_images: DockerImageEngine) -> DockerContainerEngine:
    return DockerContainerEngine(docker_images.client)


@pytest.fixture(scope="session")
def leftovers(containers: DockerContainerEngine) -> Callable[[str], list[str]]:
    """The names of the containers and networks that carry a run's id: what `peakday clean`
    would remove, and what a finished run must not leave."""
    from peakday.images.build import MANAGED_LABEL
    from peakday.platforms.docker_names import RUN_LABEL

    def of_run(run_id: str) -> list[str]:
        labels = {MANAGED_LABEL: "true", RUN_LABEL: run_id}
        return [c.name for c in containers.find_containers(labels)] + [
            n.name for n in containers.find_networks(labels)
        ]

    return of_run


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
    if problem is not None:
        fail_or_skip(f"'docker compose' does not work: {problem}. Hint: run .ci/install-compose.")
