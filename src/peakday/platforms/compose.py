"""compose/docker-compose.yml and compose/toxiproxy.json, rendered from the topology (pure).

The files are checked in for people who start the storefront by hand; a unit test fails when
they drift from topology.py. Regenerate them with `python -m peakday.platforms.compose`.

Every host port is `${PEAKDAY_PORT_<NAME>:-<default>}`, so a second stack (or a test) can
publish elsewhere; each storefront service has a healthcheck, so `up --wait` returns once they
answer /health.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from peakday import __version__
from peakday.faults.traffic import TOXIPROXY_METRICS_ARGS
from peakday.images.build import MANAGED_LABEL, storefront_image, toxiproxy_image
from peakday.platforms.docker_names import SERVICE_LABEL
from peakday.topology import (
    CONTAINER_TOXIPROXY_NAME,
    Topology,
    container_command,
    container_upstream,
    storefront_topology,
)

TOXIPROXY_CONFIG_IN_CONTAINER = "/config/toxiproxy.json"
TOXIPROXY_API_PORT_NAME = "toxiproxy_api"
# Docker runs the first probe one interval after start, so `up --wait` takes at least that; each
# probe costs ~40 ms of CPU (a docker exec and a bare Python), so not much more often than this.
# Failures in the start period (auth seeds its users on first start) do not count.
HEALTH_INTERVAL_S = 2
HEALTH_START_PERIOD_S = 60
HEADER = """\
# The peakday storefront by hand: `docker compose -f compose/docker-compose.yml up -d --wait`.
# Generated from src/peakday/topology.py by `python -m peakday.platforms.compose`; do not edit
# (tests/unit/platforms/test_compose.py fails when this file and the topology disagree).
# Images are built locally (`peakday images build --offline`) and never pulled. Ports are
# published on 127.0.0.1 only: Toxiproxy API 8474, proxies 18101 (auth_login) and 18102
# (auth_introspect), services 8101-8103; PEAKDAY_PORT_<NAME> moves one, e.g.
# PEAKDAY_PORT_TOXIPROXY_API=28474 or PEAKDAY_PORT_AUTH_LOGIN=28101. `--wait` returns once
# auth, checkout and labels answer /health.
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


def port_variable(name: str) -> str:
    """The environment variable that moves the host port of a service, proxy or toxiproxy_api."""
    return f"PEAKDAY_PORT_{name.upper()}"


def _published(name: str, port: int) -> str:
    """127.0.0.1:HOST:CONTAINER, the host port `port` unless PEAKDAY_PORT_<NAME> says otherwise."""
    return f"127.0.0.1:${{{port_variable(name)}:-{port}}}:{port}"


def _healthcheck(port: int) -> dict[str, Any]:
    """GET /health inside the container answered 200, with a bare Python (the image has no curl;
    a socket rather than urllib halves the probe's start-up time)."""
    probe = (
        "import socket, sys; "
        f"s = socket.create_connection(('127.0.0.1', {port}), 2); "
        "s.sendall(b'GET /health HTTP/1.0\\r\\n\\r\\n'); "
        "sys.exit(s.recv(12)[9:] != b'200')"
    )
    return {
        "test": ["CMD", "python", "-I", "-S", "-c", probe],
        "interval": f"{HEALTH_INTERVAL_S}s",
        "timeout": "2s",
        "retries": 3,
        "start_period": f"{HEALTH_START_PERIOD_S}s",
    }


def render_compose(topology: Topology, version: str = __version__) -> dict[str, Any]:
    services: dict[str, Any] = {
        CONTAINER_TOXIPROXY_NAME: {
            "image": toxiproxy_image(version),
            "pull_policy": "never",
            # Appended to the image's entrypoint (toxiproxy-server -host 0.0.0.0 -port 8474).
            "command": ["-config", TOXIPROXY_CONFIG_IN_CONTAINER, *TOXIPROXY_METRICS_ARGS],
            "volumes": [f"./toxiproxy.json:{TOXIPROXY_CONFIG_IN_CONTAINER}:ro"],
            "ports": [
                _published(TOXIPROXY_API_PORT_NAME, topology.toxiproxy_api_port),
                *(_published(route.name, route.default_listen_port) for route in topology.proxies),
            ],
            "labels": {MANAGED_LABEL: "true", SERVICE_LABEL: CONTAINER_TOXIPROXY_NAME},
        }
    }
    for service in topology.services:
        entry: dict[str, Any] = {
            "image": storefront_image(version),
            "pull_policy": "never",
            "command": container_command(topology, service, auth_timeout_s=2.0),
            "ports": [_published(service.name, service.default_port)],
            "healthcheck": _healthcheck(service.default_port),
            "labels": {MANAGED_LABEL: "true", SERVICE_LABEL: service.name},
        }
        if service.calls_auth_via is not None:
            # Toxiproxy has no healthcheck (a FROM scratch image: nothing to probe with), but it
            # creates its proxies from -config before it serves; auth must answer first.
            entry["depends_on"] = {
                CONTAINER_TOXIPROXY_NAME: {"condition": "service_started"},
                "auth": {"condition": "service_healthy"},
            }
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
