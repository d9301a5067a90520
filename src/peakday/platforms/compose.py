"""compose/docker-compose.yml and compose/toxiproxy.json, rendered from the topology (pure).

The files are checked in for people who start the storefront by hand; a unit test fails when
they drift from topology.py. Regenerate them with `python -m peakday.platforms.compose`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from peakday import __version__
from peakday.images.build import MANAGED_LABEL, storefront_image, toxiproxy_image
from peakday.topology import (
    CONTAINER_DATA_ROOT,
    CONTAINER_TOXIPROXY_NAME,
    Topology,
    container_auth_url,
    container_upstream,
    storefront_args,
    storefront_topology,
)

SERVICE_LABEL = "org.peakday.service"
TOXIPROXY_CONFIG_IN_CONTAINER = "/config/toxiproxy.json"
HEADER = """\
# The peakday storefront by hand: `docker compose -f compose/docker-compose.yml up`.
# Generated from src/peakday/topology.py by `python -m peakday.platforms.compose`; do not edit
# (tests/unit/platforms/test_compose.py fails when this file and the topology disagree).
# Images are built locally (`peakday images build --offline`) and never pulled. Ports are
# published on 127.0.0.1 only: Toxiproxy API 8474, proxies 18101 (auth_login) and 18102
# (auth_introspect), services 8101-8103.
"""


def render_toxiproxy_config(topology: Topology) -> list[dict[str, Any]]:
    """Toxiproxy's -config file: every proxy, listening on its fixed port in the container."""
    return [
        {
            "name": route.name,
            "listen": f"0.0.0.0:{route.default_listen_port}",
            "upstream": container_upstream(topology, route),
            "enabled": True,
        }
        for route in topology.proxies
    ]


def _published(port: int) -> str:
    return f"127.0.0.1:{port}:{port}"


def render_compose(topology: Topology, version: str = __version__) -> dict[str, Any]:
    services: dict[str, Any] = {
        CONTAINER_TOXIPROXY_NAME: {
            "image": toxiproxy_image(version),
            "pull_policy": "never",
            # Appended to the image's entrypoint (toxiproxy-server -host 0.0.0.0 -port 8474).
            "command": ["-config", TOXIPROXY_CONFIG_IN_CONTAINER],
            "volumes": [f"./toxiproxy.json:{TOXIPROXY_CONFIG_IN_CONTAINER}:ro"],
            "ports": [
                _published(topology.toxiproxy_api_port),
                *(_published(route.default_listen_port) for route in topology.proxies),
            ],
            "labels": {MANAGED_LABEL: "true", SERVICE_LABEL: CONTAINER_TOXIPROXY_NAME},
        }
    }
    for service in topology.services:
        entry: dict[str, Any] = {
            "image": storefront_image(version),
            "pull_policy": "never",
            "command": [
                "python",
                "-m",
                "peakday.storefront",
                *storefront_args(
                    service,
                    host="0.0.0.0",
                    port=service.default_port,
                    data_dir=f"{CONTAINER_DATA_ROOT}/{service.name}",
                    auth_url=container_auth_url(topology, service),
                    auth_timeout_s=2.0,
                ),
            ],
            "ports": [_published(service.default_port)],
            "labels": {MANAGED_LABEL: "true", SERVICE_LABEL: service.name},
        }
        if service.calls_auth_via is not None:
            entry["depends_on"] = [CONTAINER_TOXIPROXY_NAME, "auth"]
        services[service.name] = entry
    return {"name": "peakday", "services": services}


def compose_text(topology: Topology, version: str = __version__) -> str:
    return HEADER + yaml.safe_dump(render_compose(topology, version), sort_keys=False, width=100)


def toxiproxy_config_text(topology: Topology) -> str:
    return json.dumps(render_toxiproxy_config(topology), indent=2) + "\n"


def write_compose_files(compose_dir: Path, topology: Topology) -> None:
    (compose_dir / "docker-compose.yml").write_text(compose_text(topology))
    (compose_dir / "toxiproxy.json").write_text(toxiproxy_config_text(topology))


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("compose")
    write_compose_files(folder, storefront_topology())
