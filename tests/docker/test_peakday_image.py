"""The peakday image for CI jobs: built offline by `build_images` (under a test-only tag, so the
images runs use are not replaced), it answers `peakday --version` and `peakday validate`, and runs
an external experiment for real: its own toxiproxy-server and Locust against a tiny HTTP server
in another container on the same Docker network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peakday import __version__
from peakday.images.build import (
    OFFLINE_PYTHON_BASE,
    build_images,
    peakday_image,
    runtime_images,
)
from peakday.images.build_contexts import BuildPaths
from peakday.images.engine import DockerImageEngine
from peakday.images.host_toolchain import default_toolchain

pytestmark = [pytest.mark.docker, pytest.mark.integration, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_TAG = f"{__version__}-imagetest"

EXPERIMENT = """\
name: web-latency
platform: external
external:
  upstreams: {web: "web:8000"}       # another container on the job's network
  allow_non_local_targets: true
  proxies: {web_front: web}
  locustfile: web_locust.py
  host: web_front
load:
  users: 4
  spawn_rate: 4
  duration: 16s
  warmup: 3s
faults:
  - name: web-latency
    at: 7s
    duration: 5s
    proxy: web_front
    toxic: latency
    attributes: {latency: 200, jitter: 0}
slos:
  - {name: index-succeeds, request: index, metric: success_rate, objective: ">= 99%", phase: all}
  - {name: index-bounded, request: index, metric: p95, objective: "< 2s", phase: fault}
"""

LOCUSTFILE = """\
from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.2)

    @task
    def index(self):
        self.client.get("/", name="index", timeout=5)
"""


@pytest.fixture(scope="module")
def image(docker_engine: DockerImageEngine) -> Iterator[str]:
    """peakday/peakday:<version>-imagetest, built offline (layers cached) and untagged after."""
    paths = BuildPaths.for_project(REPO_ROOT)
    build_images(
        True,
        engine=docker_engine,
        toolchain=default_toolchain(paths.log_dir, sys.executable),
        paths=paths,
        version=TEST_TAG,
    )
    try:
        yield peakday_image(TEST_TAG)
    finally:
        # `docker rmi`: untagging can take longer than the SDK's 10 s on a busy engine.
        tags = (*runtime_images(TEST_TAG), peakday_image(TEST_TAG))
        subprocess.run(["docker", "rmi", *tags], capture_output=True, timeout=300, check=False)


def docker_run(*args: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "run", "--rm", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def test_the_image_answers_version_and_validates_a_shipped_experiment(image: str) -> None:
    version = docker_run(image, "peakday", "--version")
    assert version.returncode == 0, version.stderr
    assert __version__ in version.stdout

    validated = docker_run(image, "peakday", "validate", "smoke")
    assert validated.returncode == 0, validated.stdout + validated.stderr

    toxiproxy = docker_run(image, "toxiproxy-server", "-version")
    assert "2.12.0" in toxiproxy.stdout + toxiproxy.stderr


@pytest.fixture
def web_server(docker_engine: DockerImageEngine) -> Iterator[str]:
    """A network with a tiny HTTP server named `web` on it; yields the network's name."""
    run = uuid.uuid4().hex[:10]
    labels = {"org.peakday.managed": "true", "org.peakday.test": __name__, "org.peakday.run": run}
    network = docker_engine.client.networks.create(
        f"peakday-test-{run}", driver="bridge", labels=labels
    )
    container: Any = None
    try:
        container = docker_engine.client.containers.run(
            OFFLINE_PYTHON_BASE,
            ["python3", "-m", "http.server", "8000"],
            name=f"peakday-test-web-{run}",
            network=network.name,
            hostname="web",
            labels=labels,
            detach=True,
        )
        network.disconnect(container)
        network.connect(container, aliases=["web"])
        wait_until_it_answers(container)
        yield str(network.name)
    finally:
        if container is not None:
            container.remove(force=True)
        network.remove()


def wait_until_it_answers(container: Any, timeout_s: float = 60) -> None:
    """The run's baseline must not start before the server listens (a busy CI engine took
    seconds to start its Python: the first 5 s of requests were refused)."""
    probe = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/', timeout=2)"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if container.exec_run(["python3", "-c", probe]).exit_code == 0:
            return
        time.sleep(0.5)
    pytest.fail(f"the test's web server did not answer within {timeout_s:.0f} s")


def test_the_image_runs_an_external_experiment_for_real(
    image: str, web_server: str, tmp_path: Path
) -> None:
    (tmp_path / "web-latency.yaml").write_text(EXPERIMENT)
    (tmp_path / "web_locust.py").write_text(LOCUSTFILE)

    ran = docker_run(
        "--network",
        web_server,
        "-v",
        f"{tmp_path}:/work",
        image,
        "peakday",
        "run",
        "web-latency.yaml",
        "--allow-non-local",
        timeout_s=240,
    )

    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    (result_file,) = tmp_path.glob("results/*/result.json")
    result = json.loads(result_file.read_text())
    assert result["verdict"] == "pass", result.get("outcome")
    (fault,) = result["faults"]
    assert fault["label"] == "web-latency"
    assert fault["applied_at_s"] is not None
    assert fault["removed_at_s"] is not None
    requests = sum(row["requests"] for row in result["timeline"] if row["name"] == "index")
    assert requests > 50
