"""compose/ and the Docker platform are wired from the one topology description."""

from __future__ import annotations

import json
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
from peakday.topology import storefront_topology

COMPOSE_DIR = Path(__file__).resolve().parents[3] / "compose"
REGENERATE = "Regenerate with 'python -m peakday.platforms.compose compose'."


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
        assert [f"127.0.0.1:{port}:{port}" for port in holder.ports] == compose[service]["ports"]
    assert compose["toxiproxy"]["image"] == layout.toxiproxy.image
    assert [f"127.0.0.1:{p}:{p}" for p in layout.toxiproxy.ports] == compose["toxiproxy"]["ports"]
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
