"""The runtime images (built offline when missing or stale: conftest's docker_images) serve:
storefront auth and Toxiproxy on one user-defined network.

Needs a Docker engine (start one with .ci/start-dockerd). Without one the test is skipped, unless
PEAKDAY_REQUIRE_DOCKER=1, when it fails instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from peakday.images.build import storefront_image, toxiproxy_image
from peakday.images.engine import DockerImageEngine
from peakday.platforms.docker_names import run_labels as docker_run_labels
from peakday.processes.waiting import http_ok, poll_until

pytestmark = pytest.mark.docker

AUTH_PORT = 8101
TOXIPROXY_API_PORT = 8474
PROXY_LISTEN_PORT = 18101


@pytest.fixture
def run_labels(tmp_path: Path) -> dict[str, str]:
    """A run's labels, naming this process as the owner: `peakday clean`, run meanwhile by any
    other test on this machine, leaves the containers of a live owner alone."""
    labels = docker_run_labels(uuid.uuid4().hex[:10], "test_images", tmp_path)
    return {**labels, "org.peakday.test": "tests/docker/test_images.py"}


@pytest.fixture
def network(docker_engine: DockerImageEngine, run_labels: dict[str, str]) -> Iterator[Any]:
    created = docker_engine.client.networks.create(
        f"peakday-test-{run_labels['org.peakday.run']}", driver="bridge", labels=run_labels
    )
    try:
        yield created
    finally:
        created.remove()


@pytest.fixture
def containers(docker_engine: DockerImageEngine) -> Iterator[list[Any]]:
    """Containers appended here are removed at the end, whatever happened."""
    started: list[Any] = []
    try:
        yield started
    finally:
        for container in started:
            container.remove(force=True)


def published_port(container: Any, port: int) -> int:
    container.reload()
    bindings = container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"]
    assert [binding["HostIp"] for binding in bindings] == ["127.0.0.1"]
    return int(bindings[0]["HostPort"])


def is_running(container: Any) -> bool:
    container.reload()
    return bool(container.status == "running")


def wait_healthy(container: Any, url: str) -> None:
    ready = poll_until(
        http_ok(url),
        timeout_s=30,
        interval_s=0.2,
        still_worth_waiting=lambda: is_running(container),
    )
    if not ready:
        logs = container.logs(tail=30).decode(errors="replace")
        pytest.fail(f"{container.name} did not answer 200 at {url} within 30 s. Logs:\n{logs}")


def test_offline_images_serve_auth_through_toxiproxy_on_one_network(
    docker_images: DockerImageEngine,
    network: Any,
    containers: list[Any],
    run_labels: dict[str, str],
) -> None:
    client = docker_images.client
    run_id = run_labels["org.peakday.run"]
    assert client.images.get(storefront_image()).attrs["Config"]["User"] == "peakday"

    auth_name = f"peakday-test-auth-{run_id}"
    auth = client.containers.run(
        storefront_image(),
        command=[
            "python",
            "-m",
            "peakday.storefront",
            "auth",
            "--host",
            "0.0.0.0",
            "--port",
            str(AUTH_PORT),
            "--data-dir",
            "/var/lib/peakday/auth",
        ],
        name=auth_name,
        detach=True,
        labels=run_labels,
        network=network.name,
        ports={f"{AUTH_PORT}/tcp": ("127.0.0.1", None)},
    )
    containers.append(auth)
    toxiproxy = client.containers.run(
        toxiproxy_image(),
        name=f"peakday-test-toxiproxy-{run_id}",
        detach=True,
        labels=run_labels,
        network=network.name,
        ports={
            f"{TOXIPROXY_API_PORT}/tcp": ("127.0.0.1", None),
            f"{PROXY_LISTEN_PORT}/tcp": ("127.0.0.1", None),
        },
    )
    containers.append(toxiproxy)

    auth_url = f"http://127.0.0.1:{published_port(auth, AUTH_PORT)}"
    api_url = f"http://127.0.0.1:{published_port(toxiproxy, TOXIPROXY_API_PORT)}"
    proxy_url = f"http://127.0.0.1:{published_port(toxiproxy, PROXY_LISTEN_PORT)}"
    wait_healthy(auth, f"{auth_url}/health")
    wait_healthy(toxiproxy, f"{api_url}/version")

    assert httpx.get(f"{auth_url}/health").json()["status"] == "ok"
    assert httpx.get(f"{api_url}/version").json() == {"version": "2.12.0"}

    # Toxiproxy reaches auth by container name on the user-defined network.
    created = httpx.post(
        f"{api_url}/proxies",
        json={
            "name": "auth_login",
            "listen": f"0.0.0.0:{PROXY_LISTEN_PORT}",
            "upstream": f"{auth_name}:{AUTH_PORT}",
        },
    )
    assert created.status_code == 201, created.text
    wait_healthy(toxiproxy, f"{proxy_url}/health")
    assert httpx.get(f"{proxy_url}/health").json()["status"] == "ok"
