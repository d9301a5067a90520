"""`load.workers` on the docker platform: Locust workers as containers on the run's network,
the master a host process listening on the network's gateway. Needs a Docker engine."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import textwrap
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from integration.peakday_process import (
    WatchedRun,
    load_result,
    run_id_of,
    start_run,
    wait_for_load,
)
from integration.test_measurement import locust_request_count
from peakday.images.build import MANAGED_LABEL
from peakday.images.engine import DockerImageEngine
from peakday.platforms.docker_client import DockerContainerEngine
from peakday.platforms.docker_names import RUN_LABEL, SERVICE_LABEL
from peakday.scoring.phases import windows_for
from peakday.scoring.slo import measure

pytestmark = [pytest.mark.docker, pytest.mark.slow]

LOGIN_LATENCY_MS = 300
# Merchants and tills log in again every few journeys (each of the 20 users about every 4-5 s),
# so every 5 s window holds logins.
WORKERS_SPEC = f"""
name: docker-workers
load:
  arrival_rate: 20
  max_concurrency: 20
  duration: 16s
  warmup: 2s
  workers: 2
  journeys: {{merchant: 1, pos: 1}}
faults:
  - {{name: slow-login, at: 6s, duration: 5s, proxy: auth_login, toxic: latency,
     attributes: {{latency: {LOGIN_LATENCY_MS}}}}}
"""


def write_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "docker-workers.yaml"
    spec.write_text(textwrap.dedent(WORKERS_SPEC))
    return spec


def master_argv(run_dir: Path) -> list[str] | None:
    try:
        children = json.loads((run_dir / "pids.json").read_text())["children"]
    except (OSError, ValueError, KeyError):
        return None
    return next((c["argv"] for c in children if c["name"] == "locust-master"), None)


def watch_workers(
    run: WatchedRun, client: Any, timeout_s: float
) -> tuple[list[str], list[dict[str, Any]], str]:
    """While the run goes: the master's command line, the worker containers' settings as the
    engine reports them, and the run network's gateway."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and run.popen.poll() is None:
        argv = master_argv(run.run_dir)
        if argv is None:
            time.sleep(0.2)
            continue
        run_id = run_id_of(run.run_dir)
        found = client.containers.list(
            filters={"label": [f"{MANAGED_LABEL}=true", f"{RUN_LABEL}={run_id}"]}
        )
        workers = [c for c in found if c.labels.get(SERVICE_LABEL, "").startswith("locust-worker-")]
        if len(workers) == 2:
            network = client.networks.get(f"peakday-{run_id.lower()}")
            gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
            return argv, [c.attrs for c in workers], gateway
        time.sleep(0.2)
    pytest.fail("the run did not start its master and two worker containers in time")


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def mounts(attrs: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
    return {m["Destination"]: (m["Source"], m["RW"]) for m in attrs["Mounts"]}


@pytest.fixture(scope="module")
def workers_run(
    containers: DockerContainerEngine,
    docker_images: DockerImageEngine,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[int, str, Path, list[str], tuple[list[str], list[dict[str, Any]], str], float]:
    tmp_path = tmp_path_factory.mktemp("docker-workers")
    run_dir = tmp_path / "run"
    started = time.monotonic()
    run = start_run(
        ["run", str(write_spec(tmp_path)), "--platform", "docker", "--no-color"], run_dir
    )
    try:
        seen = watch_workers(run, docker_images.client, timeout_s=90)
        code, out, err = run.wait(timeout_s=150)
    finally:
        if run.popen.poll() is None:
            run.popen.kill()
    return code, out + err, run_dir, run.survivors(), seen, time.monotonic() - started


def test_docker_workers_merge_to_exactly_what_locust_counted(workers_run) -> None:  # type: ignore[no-untyped-def]
    code, output, run_dir, _, _, run_s = workers_run
    assert code in (0, 4), output
    result = load_result(run_dir)
    assert result.run.platform == "docker" and result.run.status == "completed"
    health = result.load_health
    assert health is not None
    assert {sample.process for sample in health.generator} == {"master", "worker-0", "worker-1"}
    assert abs(health.planned_journeys - 320) <= 2
    merged = sum(row.requests for row in result.timeline)
    assert merged == locust_request_count(run_dir) > 0
    print(f"docker workers: merged {merged} == Locust's count; run took {run_s:.1f} s")


def test_worker_containers_go_through_the_toxiproxy_container(workers_run) -> None:  # type: ignore[no-untyped-def]
    _, _, run_dir, _, _, _ = workers_run
    result = load_result(run_dir)
    during, _ = measure("p50", "login", result.timeline, windows_for("fault", result.phases))
    after, _ = measure("p50", "login", result.timeline, windows_for("recovery", result.phases))
    assert during is not None and after is not None
    assert after < LOGIN_LATENCY_MS <= during, (during, after)


def test_the_master_listens_on_the_run_networks_gateway_only(workers_run) -> None:  # type: ignore[no-untyped-def]
    _, _, _, _, (argv, workers, gateway), _ = workers_run
    bind = option(argv, "--master-bind-host")
    assert bind == gateway, (bind, gateway)
    assert ipaddress.ip_address(bind).is_private and not ipaddress.ip_address(bind).is_loopback
    port = option(argv, "--master-bind-port")
    for attrs in workers:
        command = attrs["Config"]["Cmd"]
        assert command[0] == "locust" and "--worker" in command
        assert option(command, "--master-host") == gateway
        assert option(command, "--master-port") == port


def test_worker_containers_run_as_the_user_with_read_only_code_and_no_ports(workers_run) -> None:  # type: ignore[no-untyped-def]
    _, _, run_dir, _, (_, workers, _), _ = workers_run
    for attrs in workers:
        assert attrs["Config"]["User"] == f"{os.getuid()}:{os.getgid()}"
        found = mounts(attrs)
        assert found["/peakday/locustfile/storefront.py"][1] is False
        assert found["/peakday/plugin/locust_plugin.py"][1] is False
        assert found["/peakday/confirmations"][1] is True
        assert not attrs["HostConfig"]["PortBindings"]
        env = dict(item.split("=", 1) for item in attrs["Config"]["Env"])
        assert env["PEAKDAY_AUTH_URL"] == "http://toxiproxy:18101"
        assert env["PEAKDAY_CHECKOUT_URL"] == "http://checkout:8102"
    confirmations = sorted((run_dir / "confirmations").glob("*.jsonl"))
    assert [p.name.rsplit("-", 1)[0] for p in confirmations] == [
        "locust-worker-0",
        "locust-worker-1",
    ]
    assert all(p.stat().st_uid == os.getuid() for p in confirmations)
    integrity = load_result(run_dir).integrity
    assert integrity is not None and integrity.checked and integrity.confirmation_files == 2
    assert integrity.lost == 0 and all(k.unconfirmed_but_stored == 0 for k in integrity.kinds)


def test_docker_workers_run_leaves_no_container_network_or_process(  # type: ignore[no-untyped-def]
    workers_run, leftovers: Callable[[str], list[str]]
) -> None:
    _, _, run_dir, survivors, _, _ = workers_run
    assert leftovers(run_id_of(run_dir)) == []
    assert survivors == []
    assert (run_dir / "logs" / "locust-worker-1.log").is_file()


def test_sigterm_mid_run_removes_the_worker_containers(
    containers: DockerContainerEngine, leftovers: Callable[[str], list[str]], tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    run = start_run(["run", str(write_spec(tmp_path)), "--platform", "docker"], run_dir)
    try:
        wait_for_load(run.popen, run_dir, timeout_s=90)
        run_id = run_id_of(run_dir)
        labels = {MANAGED_LABEL: "true", RUN_LABEL: run_id}
        workers = [
            c.name
            for c in containers.find_containers(labels)
            if c.labels.get(SERVICE_LABEL, "").startswith("locust-worker-")
        ]
        assert len(workers) == 2, workers
        run.popen.send_signal(signal.SIGTERM)
        code, out, err = run.wait(timeout_s=60)
    finally:
        if run.popen.poll() is None:
            run.popen.kill()
    assert code == 130, out + err
    assert leftovers(run_id) == []
    assert run.survivors() == []
