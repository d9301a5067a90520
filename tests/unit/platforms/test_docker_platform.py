from __future__ import annotations

import os
from pathlib import Path

import pytest

from peakday.errors import ServiceStartError
from peakday.images.build import MANAGED_LABEL
from peakday.platforms import docker as docker_platform
from peakday.platforms.docker import DockerPlatform, plan_layout
from peakday.platforms.docker_names import (
    EXPERIMENT_LABEL,
    PID_LABEL,
    RUN_LABEL,
    SERVICE_LABEL,
    run_labels,
)
from peakday.topology import storefront_topology
from unit.platforms.fakes import FakeEngine, FakeToxiproxy

RUN_ID = "20251201T110000Z-abc123"
IMAGES = ("peakday/storefront:test", "peakday/toxiproxy:test")


def layout(tmp_path: Path):  # type: ignore[no-untyped-def]
    return plan_layout(
        storefront_topology(),
        run_id=RUN_ID,
        labels=run_labels(RUN_ID, "smoke", tmp_path),
        run_dir=tmp_path,
        host_ports=[40000, 40001, 40002, 40003, 40004, 40005],
        auth_timeout_s=2.0,
        images=IMAGES,
    )


def test_every_container_is_labelled_with_run_experiment_and_owner(tmp_path: Path) -> None:
    planned = layout(tmp_path)
    for spec in (planned.toxiproxy, *planned.network_holders, *planned.services):
        assert spec.labels[MANAGED_LABEL] == "true"
        assert spec.labels[RUN_LABEL] == RUN_ID
        assert spec.labels[EXPERIMENT_LABEL] == "smoke"
        assert spec.labels[PID_LABEL] == str(os.getpid())
        assert spec.network == planned.network == f"peakday-{RUN_ID.lower()}"
        assert spec.name.startswith(f"peakday-{RUN_ID.lower()}-")


def test_toxiproxy_publishes_its_api_and_every_proxy_port(tmp_path: Path) -> None:
    planned = layout(tmp_path)
    assert planned.toxiproxy.aliases == ("toxiproxy",)
    assert dict(planned.toxiproxy.ports) == {8474: 40000, 18101: 40001, 18102: 40002}
    assert dict(planned.proxy_host_ports) == {"auth_login": 40001, "auth_introspect": 40002}
    # after the image's entrypoint: still on every interface, and counting bytes per proxy
    assert planned.toxiproxy.command == ("-host=0.0.0.0", "-proxy-metrics")


def test_services_reach_auth_through_the_toxiproxy_container_by_name(tmp_path: Path) -> None:
    by_name = {s.labels[SERVICE_LABEL]: s for s in layout(tmp_path).services}
    checkout = by_name["checkout"].command
    assert checkout is not None
    assert checkout[checkout.index("--auth-url") + 1] == "http://toxiproxy:18102"
    assert "--auth-url" not in (by_name["auth"].command or ())
    assert dict(by_name["auth"].binds) == {
        str((tmp_path / "data" / "auth").resolve()): "/var/lib/peakday/auth"
    }


def test_each_service_runs_in_a_holder_that_keeps_its_name_and_ports(tmp_path: Path) -> None:
    """The name and ports outlive the service's container, so a killed service refuses
    connections at once instead of vanishing from the network's DNS."""
    planned = layout(tmp_path)
    pairs = zip(planned.network_holders, planned.services, strict=True)
    by_name = {service.labels[SERVICE_LABEL]: (holder, service) for holder, service in pairs}
    assert set(by_name) == {"auth", "checkout", "labels"}
    holder, auth = by_name["auth"]
    assert auth.network_of == holder.name == f"peakday-{RUN_ID.lower()}-auth-net"
    assert (auth.aliases, dict(auth.ports)) == ((), {})
    assert holder.aliases == ("auth",) and dict(holder.ports) == {8101: 40003}
    assert holder.network == planned.network and holder.labels[RUN_LABEL] == RUN_ID
    assert holder.binds == {} and holder.command is not None and "peakday" not in holder.command


def make_platform(
    tmp_path: Path, engine: FakeEngine, proxies: list[FakeToxiproxy]
) -> DockerPlatform:
    def client(host: str, port: int) -> FakeToxiproxy:
        proxies.append(FakeToxiproxy(host, port))
        return proxies[-1]

    return DockerPlatform(
        storefront_topology(),
        tmp_path,
        engine,
        run_id=RUN_ID,
        experiment="smoke",
        images=IMAGES,
        toxiproxy_client=client,
        health_timeout_s=0.3,
    )


@pytest.fixture
def always_healthy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_platform, "http_ok", lambda url: lambda: True)


def test_start_wires_proxies_to_container_names_and_returns_host_urls(
    tmp_path: Path, always_healthy: None
) -> None:
    engine = FakeEngine()
    made: list[FakeToxiproxy] = []
    platform = make_platform(tmp_path, engine, made)
    endpoints = platform.start()
    assert engine.calls[0][0] == "create_network"
    assert engine.calls[1] == ("run", f"peakday-{RUN_ID.lower()}-toxiproxy")
    assert made[0].proxies == {
        "auth_login": ("0.0.0.0:18101", "auth:8101"),
        "auth_introspect": ("0.0.0.0:18102", "auth:8101"),
    }
    assert set(endpoints.services) == {"auth", "checkout", "labels"}
    assert all(url.startswith("http://127.0.0.1:") for url in endpoints.services.values())
    assert set(endpoints.proxies) == {"auth_login", "auth_introspect"}
    assert all(address.startswith("127.0.0.1:") for address in endpoints.proxies.values())
    assert set(endpoints.data_dirs) == {"auth", "checkout", "labels"}
    assert endpoints.locust_env()["PEAKDAY_AUTH_URL"] == f"http://{endpoints.proxies['auth_login']}"
    platform.stop()
    assert engine.containers == {} and engine.networks == {}


def test_a_service_that_never_gets_healthy_names_itself_and_shows_its_log(
    tmp_path: Path,
) -> None:
    bad = f"peakday-{RUN_ID.lower()}-toxiproxy"
    engine = FakeEngine(never_healthy=frozenset({bad}))
    platform = make_platform(tmp_path, engine, [])
    with pytest.raises(ServiceStartError) as caught:
        platform.start()
    message = str(caught.value)
    assert bad in message and "within 0 s" in message and "status: exited" in message
    assert "ModuleNotFoundError" in message and "Hint:" in message
    platform.stop()
    assert engine.containers == {} and engine.networks == {}


def test_stop_removes_the_rest_when_one_removal_fails_and_is_safe_twice(
    tmp_path: Path, always_healthy: None
) -> None:
    engine = FakeEngine()
    platform = make_platform(tmp_path, engine, [])
    platform.start()
    stuck = f"peakday-{RUN_ID.lower()}-auth"
    engine.fail_remove.add(stuck)
    platform.stop()
    assert list(engine.containers) == [stuck]
    assert engine.networks == {}
    platform.stop()


def test_paused_services_are_unpaused_then_stopped_gracefully(
    tmp_path: Path, always_healthy: None
) -> None:
    engine = FakeEngine()
    platform = make_platform(tmp_path, engine, [])
    platform.start()
    platform.services().pause("auth")
    platform.stop()
    auth = f"peakday-{RUN_ID.lower()}-auth"
    assert [c for c in engine.calls if c[1] == auth][-3:] == [
        ("unpause", auth),
        ("stop", auth),
        ("remove", auth),
    ]


def test_a_killed_service_leaves_its_holder_running_and_starts_in_it_again(
    tmp_path: Path, always_healthy: None
) -> None:
    engine = FakeEngine()
    platform = make_platform(tmp_path, engine, [])
    platform.start()
    auth, holder = f"peakday-{RUN_ID.lower()}-auth", f"peakday-{RUN_ID.lower()}-auth-net"
    runs = [name for call, name in engine.calls if call == "run"]
    assert runs.index(holder) + 1 == runs.index(auth)
    platform.services().kill("auth")
    assert (engine.status(auth), engine.status(holder)) == ("exited", "running")
    platform.services().start("auth")
    assert engine.status(auth) == "running"
    platform.stop()
    removed = [name for call, name in engine.calls if call == "remove"]
    assert removed.index(auth) < removed.index(holder)
    assert engine.containers == {}


@pytest.mark.parametrize("action", ["kill", "stop", "start", "pause", "unpause", "restart"])
def test_service_actions_go_to_the_service_container(
    tmp_path: Path, always_healthy: None, action: str
) -> None:
    engine = FakeEngine()
    platform = make_platform(tmp_path, engine, [])
    platform.start()
    getattr(platform.services(), action)("labels")
    assert engine.calls[-1] == (action, f"peakday-{RUN_ID.lower()}-labels")


def test_resource_probe_reads_cpu_seconds_and_memory_of_running_services(
    tmp_path: Path, always_healthy: None
) -> None:
    engine = FakeEngine()
    platform = make_platform(tmp_path, engine, [])
    platform.start()
    platform.services().kill("auth")
    readings = platform.resource_probe().read()
    assert readings["auth"] is None
    checkout = readings["checkout"]
    assert checkout is not None and checkout.cpu_seconds == 2.0
    assert checkout.memory_bytes == 50_000_000
