"""compose/ and the Docker platform are wired from the one topology description."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import yaml

from peakday.platforms.compose import (
    compose_text,
    render_compose,
    render_toxiproxy_config,
    toxiproxy_config_text,
)
from peakday.platforms.docker import plan_layout
from peakday.platforms.docker_names import run_labels
from peakday.topology import Service, Topology, storefront_topology

COMPOSE_DIR = Path(__file__).resolve().parents[3] / "compose"
REGENERATE = "Regenerate with 'python -m peakday.platforms.compose compose'."
PUBLISHED = re.compile(r"127\.0\.0\.1:\$\{(PEAKDAY_PORT_[A-Z_]+):-(\d+)\}:(\d+)")


def default_ports(ports: list[str]) -> list[str]:
    """127.0.0.1:${PEAKDAY_PORT_X:-8101}:8101 as compose publishes it with no variable set."""
    return [PUBLISHED.sub(r"127.0.0.1:\2:\3", port) for port in ports]


def test_compose_file_is_the_topology_rendered() -> None:
    on_disk = (COMPOSE_DIR / "docker-compose.yml").read_text()
    assert yaml.safe_load(on_disk) == render_compose(storefront_topology()), REGENERATE
    assert on_disk == compose_text(storefront_topology()), REGENERATE


def test_toxiproxy_config_is_the_topology_rendered() -> None:
    on_disk = (COMPOSE_DIR / "toxiproxy.json").read_text()
    assert json.loads(on_disk) == render_toxiproxy_config(storefront_topology()), REGENERATE
    assert on_disk == toxiproxy_config_text(storefront_topology())


def test_compose_and_the_docker_platform_run_the_same_commands_and_proxies(
    tmp_path: Path,
) -> None:
    topology = storefront_topology()
    compose = yaml.safe_load((COMPOSE_DIR / "docker-compose.yml").read_text())["services"]
    layout = plan_layout(
        topology,
        run_id="r",
        labels=run_labels("r", "e", tmp_path),
        run_dir=tmp_path,
        host_ports=list(range(41000, 41006)),
        auth_timeout_s=2.0,
    )
    planned = sorted(holder.aliases[0] for holder in layout.network_holders)
    assert planned == sorted(set(compose) - {"toxiproxy"}) == ["auth", "checkout", "labels"]
    for holder, spec in zip(layout.network_holders, layout.services, strict=True):
        service = holder.aliases[0]  # the holder keeps the service's name and ports
        assert list(spec.command or ()) == compose[service]["command"], service
        assert compose[service]["image"] == spec.image
        assert [f"127.0.0.1:{port}:{port}" for port in holder.ports] == default_ports(
            compose[service]["ports"]
        )
    assert compose["toxiproxy"]["image"] == layout.toxiproxy.image
    assert [f"127.0.0.1:{p}:{p}" for p in layout.toxiproxy.ports] == default_ports(
        compose["toxiproxy"]["ports"]
    )
    config = json.loads((COMPOSE_DIR / "toxiproxy.json").read_text())
    assert {p["name"]: p["upstream"] for p in config} == {
        "auth_login": "auth:8101",
        "auth_introspect": "auth:8101",
    }


def test_compose_publishes_on_loopback_only_and_never_pulls() -> None:
    compose = yaml.safe_load((COMPOSE_DIR / "docker-compose.yml").read_text())["services"]
    for name, service in compose.items():
        assert service["pull_policy"] == "never", name
        assert all(port.startswith("127.0.0.1:") for port in service["ports"]), name


def test_every_host_port_has_its_own_variable_and_keeps_its_container_port() -> None:
    compose = yaml.safe_load((COMPOSE_DIR / "docker-compose.yml").read_text())["services"]
    found: dict[str, int] = {}
    for service in compose.values():
        for port in service["ports"]:
            match = PUBLISHED.fullmatch(port)
            assert match is not None, port
            variable, default, inside = match.groups()
            assert default == inside, port
            found[variable] = int(default)
    assert found == {
        "PEAKDAY_PORT_TOXIPROXY_API": 8474,
        "PEAKDAY_PORT_AUTH_LOGIN": 18101,
        "PEAKDAY_PORT_AUTH_INTROSPECT": 18102,
        "PEAKDAY_PORT_AUTH": 8101,
        "PEAKDAY_PORT_CHECKOUT": 8102,
        "PEAKDAY_PORT_LABELS": 8103,
    }


def test_callers_of_auth_start_once_auth_is_healthy() -> None:
    compose = yaml.safe_load((COMPOSE_DIR / "docker-compose.yml").read_text())["services"]
    for name in ("checkout", "labels"):
        assert compose[name]["depends_on"] == {
            "toxiproxy": {"condition": "service_started"},
            "auth": {"condition": "service_healthy"},
        }
    for name in ("auth", "checkout", "labels"):
        assert compose[name]["healthcheck"]["test"][:2] == ["CMD", "python"], name
    assert "healthcheck" not in compose["toxiproxy"]  # FROM scratch: nothing to probe with


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def health_server(status: int) -> Iterator[int]:
    handler = type("Handler", (_Health,), {"status": status})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def run_probe(port: int) -> int:
    """The healthcheck compose would run in a container serving on `port`, run here instead."""
    topology = Topology(services=(Service("auth", port, None),), proxies=(), toxiproxy_api_port=1)
    test = render_compose(topology)["services"]["auth"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"]
    return subprocess.run([sys.executable, *test[2:]], timeout=10, check=False).returncode


def test_the_healthcheck_passes_on_200_and_fails_otherwise() -> None:
    with health_server(200) as port:
        assert run_probe(port) == 0
    with health_server(503) as port:
        assert run_probe(port) != 0
    assert run_probe(port) != 0  # nothing listens any more
