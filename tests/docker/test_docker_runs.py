"""The docker platform for real: the smoke experiment, a container fault, and `peakday clean`
after a SIGKILLed run. Needs a Docker engine and builds the offline images if needed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from integration.peakday_process import (
    REPO,
    cli_env,
    events,
    load_result,
    peakday_clean,
    run_id_of,
    start_run,
    wait_for_load,
)
from integration.test_process_faults import (
    assert_login_fails_while_auth_is_down_then_recovers,
    run_kill_auth,
)
from peakday.platforms.clean import pid_alive
from peakday.platforms.docker import DockerPlatform
from peakday.platforms.docker_client import DockerContainerEngine
from peakday.scoring.phases import windows_for
from peakday.scoring.slo import measure
from peakday.topology import storefront_topology

pytestmark = [pytest.mark.docker, pytest.mark.slow]

INJECTED_LATENCY_MS = 300.0


@pytest.fixture(scope="module")
def docker_smoke(
    containers: DockerContainerEngine, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, str, Path, list[str]]:
    run_dir = tmp_path_factory.mktemp("docker-smoke") / "run"
    run = start_run(
        ["run", "experiments/smoke.yaml", "--platform", "docker", "--no-color"], run_dir
    )
    code, out, err = run.wait(timeout_s=150)
    return code, out + err, run_dir, run.survivors()


def test_smoke_passes_on_docker_with_every_slo_judged(docker_smoke) -> None:  # type: ignore[no-untyped-def]
    code, output, run_dir, _ = docker_smoke
    assert code == 0, output
    result = load_result(run_dir)
    assert result.run.platform == "docker" and result.run.status == "completed"
    for slo in result.slos:
        assert slo.verdict == "pass" and slo.value is not None, slo


def test_login_latency_fault_shows_on_docker_and_checkout_is_untouched(docker_smoke) -> None:  # type: ignore[no-untyped-def]
    _, _, run_dir, _ = docker_smoke
    result = load_result(run_dir)
    baseline, _ = measure("p95", "login", result.timeline, windows_for("baseline", result.phases))
    during, _ = measure("p95", "login", result.timeline, windows_for("fault", result.phases))
    checkout, _ = measure("p95", "checkout", result.timeline, windows_for("fault", result.phases))
    assert baseline is not None and during is not None and checkout is not None
    assert during - baseline >= 0.8 * INJECTED_LATENCY_MS, (baseline, during)
    assert checkout < INJECTED_LATENCY_MS
    (fault,) = result.faults
    assert fault.applied_at_s is not None and fault.removed_at_s is not None
    assert abs(fault.applied_at_s - fault.planned_at_s) < 0.5
    assert abs(fault.removed_at_s - fault.planned_end_s) < 0.5


def test_docker_run_leaves_no_container_network_toxic_or_process(  # type: ignore[no-untyped-def]
    docker_smoke, leftovers: Callable[[str], list[str]]
) -> None:
    _, _, run_dir, survivors = docker_smoke
    assert leftovers(run_id_of(run_dir)) == []
    after = [e for e in events(run_dir) if e["kind"] == "toxics_after_rollback"]
    assert [e["toxics"] for e in after] == [{}]
    assert survivors == []


def test_docker_run_samples_cpu_and_memory_of_each_service(docker_smoke) -> None:  # type: ignore[no-untyped-def]
    _, _, run_dir, _ = docker_smoke
    records = [json.loads(line) for line in (run_dir / "resources.jsonl").read_text().splitlines()]
    services = {r["service"] for r in records}
    assert services == {"auth", "checkout", "labels"}
    busy = [r for r in records if r["cpu_percent"] is not None]
    assert len(busy) >= 3 * 15, "about one sample a second per service over 30 s"
    assert all(r["memory_mb"] > 10 for r in records if r["up"])


def test_sqlite_stores_are_in_the_run_folder(docker_smoke) -> None:  # type: ignore[no-untyped-def]
    _, _, run_dir, _ = docker_smoke
    for service in ("auth", "checkout", "labels"):
        assert list((run_dir / "data" / service).glob("*.sqlite3")), service


def test_killing_the_auth_container_fails_logins_until_it_is_started_again(
    leftovers: Callable[[str], list[str]], tmp_path: Path
) -> None:
    result = run_kill_auth("docker", tmp_path)
    assert_login_fails_while_auth_is_down_then_recovers(result)
    assert leftovers(result.run.id) == []


def test_a_killed_container_keeps_its_name_so_toxiproxy_is_refused_at_once(
    containers: DockerContainerEngine, leftovers: Callable[[str], list[str]], tmp_path: Path
) -> None:
    """Independent of the host's DNS: Toxiproxy still resolves the killed service's name, and
    the login it proxies fails as soon as auth's port refuses the connection."""
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    platform = DockerPlatform(
        storefront_topology(), tmp_path, containers, run_id=run_id, experiment="kill-probe"
    )
    try:
        endpoints = platform.start()
        platform.services().kill("auth")
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):  # closed without an answer
            httpx.post(
                f"http://{endpoints.proxies['auth_login']}/login",
                json={"username": "shopper-001", "password": "pw-shopper-001"},
                timeout=10,
            )
        assert time.monotonic() - started < 1.0
        toxiproxy_log = containers.logs_tail(platform.container_names["toxiproxy"], 5)
        assert "connect: connection refused" in toxiproxy_log, toxiproxy_log
    finally:
        platform.stop()
    assert leftovers(run_id) == []


def test_clean_removes_what_a_sigkilled_docker_run_left(
    leftovers: Callable[[str], list[str]], tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    state = tmp_path / "state"
    env = {**cli_env(), "PEAKDAY_STATE_DIR": str(state)}
    popen = subprocess.Popen(
        [sys.executable, "-m", "peakday", "run", "experiments/smoke.yaml", "--platform",
         "docker", "--no-color", "--out", str(run_dir)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_load(popen, run_dir, timeout_s=60)
    pids = [c["pid"] for c in json.loads((run_dir / "pids.json").read_text())["children"]]
    assert pids, "Locust runs as a recorded child process"
    popen.send_signal(signal.SIGKILL)
    popen.wait(timeout=10)
    run_id = run_id_of(run_dir)
    assert leftovers(run_id), "a SIGKILLed run cannot clean up after itself"

    cleaned = peakday_clean(env)
    assert cleaned.returncode == 0, cleaned.stderr
    assert leftovers(run_id) == []
    assert f"peakday-{run_id.lower()}-auth" in cleaned.stdout
    assert "network" in cleaned.stdout and "locust" in cleaned.stdout.lower()
    time.sleep(0.5)
    assert [pid for pid in pids if pid_alive(pid)] == []  # zombies awaiting init count as gone

    again = peakday_clean(env)
    assert "Nothing to clean" in again.stdout
