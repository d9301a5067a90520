"""The Toxiproxy container reads compose/toxiproxy.json as docker-compose.yml mounts it."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from peakday.images.build import MANAGED_LABEL, toxiproxy_image
from peakday.platforms.docker_client import ContainerSpec, DockerContainerEngine
from peakday.processes.children import free_loopback_ports
from peakday.processes.waiting import http_ok, poll_until

pytestmark = pytest.mark.docker

COMPOSE_DIR = Path(__file__).resolve().parents[2] / "compose"


def test_toxiproxy_container_creates_the_compose_proxies_at_start(
    containers: DockerContainerEngine,
) -> None:
    run = uuid.uuid4().hex[:8]
    labels = {MANAGED_LABEL: "true", "org.peakday.test": "test_compose_config"}
    network = f"peakday-test-{run}"
    (api_port,) = free_loopback_ports(1)
    containers.create_network(network, labels)
    name = f"peakday-test-{run}-toxiproxy"
    try:
        containers.run(
            ContainerSpec(
                name=name,
                image=toxiproxy_image(),
                network=network,
                labels=labels,
                command=("-config", "/config/toxiproxy.json"),
                ports={8474: api_port},
                binds={str(COMPOSE_DIR / "toxiproxy.json"): "/config/toxiproxy.json"},
            )
        )
        url = f"http://127.0.0.1:{api_port}/proxies"
        assert poll_until(http_ok(url), timeout_s=20), containers.logs_tail(name)
        proxies = httpx.get(url).json()
        assert {n: p["upstream"] for n, p in proxies.items()} == {
            "auth_login": "auth:8101",
            "auth_introspect": "auth:8101",
        }
    finally:
        containers.remove(name)
        containers.remove_network(network)
