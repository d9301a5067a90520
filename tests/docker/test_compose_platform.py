"""`platform: compose` with real containers and the real Compose CLI, on a two-service project
built here FROM peakday/python-base:bookworm (nothing pulled): `app` calls `dep` by service name
from its compose config. peakday intercepts `dep`.

Needs the Compose v2 plugin and peakday/toxiproxy:0.1.0 (`peakday images build --offline`);
skipped without them, failed instead when PEAKDAY_REQUIRE_DOCKER=1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from peakday.experiment.models import Compose
from peakday.faults.toxiproxy import ToxicSpec
from peakday.platforms.compose_cli import SubprocessComposeCli
from peakday.platforms.compose_platform import ComposePlatform
from peakday.platforms.docker_client import DockerContainerEngine
from peakday.platforms.docker_names import RUN_LABEL

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
APP_DIR = REPO / "examples" / "compose"
APP_IMAGE = "peakday-test/compose-app:dev"
LATENCY_MS = 300
SAMPLES = 5


def _docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {done.stderr}")
    return done.stdout


@pytest.fixture(scope="module")
def engine(containers: DockerContainerEngine, compose_cli: None) -> DockerContainerEngine:
    """The engine with peakday's images, the compose plugin, and the test app's image (built
    from peakday/python-base:bookworm, never pulled)."""
    _docker("build", "-q", "--pull=false", "-t", APP_IMAGE, str(APP_DIR))
    return containers


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A fresh project name and its compose file; whatever is left of it is removed after."""
    name = f"pdtest-{uuid.uuid4().hex[:8]}"
    file = tmp_path / "app" / "compose.yaml"
    file.parent.mkdir()
    shutil.copy(APP_DIR / "compose.yaml", file)
    yield name, file
    subprocess.run(
        ["docker", "compose", "-p", name, "-f", str(file), "down", "--remove-orphans", "-t", "1"],
        capture_output=True,
        timeout=120,
    )


def compose(name: str, file: Path, *args: str) -> str:
    done = subprocess.run(
        ["docker", "compose", "-p", name, "-f", str(file), *args],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def containers_of(name: str) -> dict[str, str]:
    """Service -> container id, of every container of the project."""
    out = _docker(
        "ps",
        "-a",
        "--filter",
        f"label=com.docker.compose.project={name}",
        "--format",
        '{{.ID}} {{.Label "com.docker.compose.service"}}',
    )
    return {line.split()[1]: line.split()[0] for line in out.splitlines() if line.strip()}


def peakday_leftovers(run_id: str | None = None) -> list[str]:
    """Containers, networks and volumes carrying peakday's run label (of one run, if given)."""
    label = f"label={RUN_LABEL}" + (f"={run_id}" if run_id else "")
    found = []
    for kind in ("ps -a", "network ls", "volume ls"):
        found += [f"{kind}: {n}" for n in _docker(*kind.split(), "--filter", label, "-q").split()]
    return found


def platform_for(
    engine: DockerContainerEngine, name: str, file: Path, run_dir: Path
) -> tuple[ComposePlatform, str]:
    spec = Compose(
        file=str(file),
        project=name,
        intercept={"dep": 9000},
        host="app:8080",
        locustfile="unused.py",
    )
    run_id = f"t{uuid.uuid4().hex[:10]}"
    platform = ComposePlatform(
        spec, run_dir, SubprocessComposeCli(), engine, run_id=run_id, experiment="test"
    )
    return platform, run_id


def app_median_ms(client: httpx.Client, url: str) -> float:
    times = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return statistics.median(times)


def wait_status(client: httpx.Client, url: str, status: int, timeout_s: float = 20) -> float:
    """Seconds until the app answers `status`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if client.get(url).status_code == status:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer {status} within {timeout_s} s")


def test_intercepts_a_running_project_by_alias_and_leaves_it_as_found(
    engine: DockerContainerEngine, project: tuple[str, Path], tmp_path: Path
) -> None:
    name, file = project
    compose(name, file, "up", "-d", "--wait", "--pull", "never")
    before = containers_of(name)
    platform, run_id = platform_for(engine, name, file, tmp_path / "run")
    try:
        endpoints = platform.start()
        assert peakday_leftovers(run_id), "peakday's container and network carry its label"
        override = platform_override(tmp_path / "run")
        assert "networks: !override" in override
        app = before["app"]
        assert containers_of(name)["app"] == app  # the app is not recreated
        toxiproxy = containers_of(name)["peakday-toxiproxy"]
        toxiproxy_ips = set(
            _docker(
                "inspect",
                "-f",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                toxiproxy,
            ).split()
        )
        # Only Toxiproxy answers to `dep` where the app looks it up.
        answers = _docker("exec", app, "getent", "ahostsv4", "dep").split("\n")
        addresses = {line.split()[0] for line in answers if line.strip()}
        assert addresses and addresses <= toxiproxy_ips, (addresses, toxiproxy_ips)

        url = f"{endpoints.locust_host}/"
        with httpx.Client(trust_env=False, timeout=10) as client:
            baseline_ms = app_median_ms(client, url)
            api = platform.toxiproxy()
            api.add_toxic(
                "dep", ToxicSpec("lat", "latency", "downstream", 1.0, {"latency": LATENCY_MS})
            )
            slowed_ms = app_median_ms(client, url)
            api.remove_toxic("dep", "lat")
            timings = f"baseline {baseline_ms:.0f} ms, with the toxic {slowed_ms:.0f} ms"
            assert 0.8 * LATENCY_MS <= slowed_ms - baseline_ms <= 2 * LATENCY_MS, timings

            services = platform.services()
            services.kill("dep")
            wait_status(client, url, 502)  # the dependency is gone: errors
            services.start("dep")
            wait_status(client, url, 200)  # and back
            services.restart("dep")
            wait_status(client, url, 200)
    finally:
        platform.stop()
    after = containers_of(name)
    assert after["app"] == before["app"]  # left as found
    assert set(after) == {"app", "dep"}
    ledger = json.loads((tmp_path / "run" / "compose" / "compose-ledger.json").read_text())
    assert ledger["restored"] is True
    assert peakday_leftovers(run_id) == []
    # dep is back on the project's network under its own name, from the user's file alone
    dep_ip = _docker(
        "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", after["dep"]
    ).strip()
    resolved = _docker("exec", after["app"], "getent", "ahostsv4", "dep").split()
    assert resolved and resolved[0] == dep_ip
    with httpx.Client(trust_env=False, timeout=10) as client:
        published = compose(name, file, "port", "app", "8080").strip().rsplit(":", 1)[1]
        assert client.get(f"http://127.0.0.1:{published}/").status_code == 200


def platform_override(run_dir: Path) -> str:
    return (run_dir / "compose" / "peakday-override.yml").read_text()


def test_a_project_peakday_brought_up_is_brought_down(
    engine: DockerContainerEngine, project: tuple[str, Path], tmp_path: Path
) -> None:
    name, file = project
    platform, _ = platform_for(engine, name, file, tmp_path / "run")
    try:
        endpoints = platform.start()
        assert set(containers_of(name)) == {"app", "dep", "peakday-toxiproxy"}
        with httpx.Client(trust_env=False, timeout=10) as client:
            assert client.get(f"{endpoints.locust_host}/").status_code == 200
    finally:
        platform.stop()
    assert containers_of(name) == {}
    networks = _docker("network", "ls", "--filter", f"label=com.docker.compose.project={name}")
    assert name not in networks


LOCUSTFILE = """
from locust import HttpUser, constant, task


class Caller(HttpUser):
    wait_time = constant(0.05)

    @task
    def call(self):
        self.client.get("/", name="call")
"""

EXPERIMENT = """
name: compose-dep-latency
platform: compose
compose:
  file: app/compose.yaml
  project: {project}
  intercept: {{dep: 9000}}
  host: "app:8080"
  locustfile: user_locust.py
load:
  users: 4
  spawn_rate: 4
  duration: {duration}
  warmup: 2s
faults:
  - name: dep-latency
    at: 9s
    duration: 5s
    proxy: dep
    toxic: latency
    attributes: {{latency: 200, jitter: 0}}
slos:
  - {{name: call-fast-at-baseline, request: call, metric: p95, objective: "< 150ms",
      phase: baseline}}
  - {{name: call-slow-under-fault, request: call, metric: p50, objective: "> 150ms",
      phase: fault}}
"""


def write_experiment(project: tuple[str, Path], duration: str) -> Path:
    name, file = project
    folder = file.parent.parent
    (folder / "user_locust.py").write_text(LOCUSTFILE)
    path = folder / "experiment.yaml"
    path.write_text(EXPERIMENT.format(project=name, duration=duration))
    return path


def peakday(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO / 'tests'}"}
    return subprocess.Popen(
        [sys.executable, "-m", "peakday", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_peakday_run_on_compose_faults_reach_traffic(
    engine: DockerContainerEngine, project: tuple[str, Path], tmp_path: Path
) -> None:
    experiment = write_experiment(project, "20s")
    run_dir = tmp_path / "result"
    process = peakday("run", str(experiment), "--out", str(run_dir), "--no-color", "-q")
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, out + err
    result = json.loads((run_dir / "result.json").read_text())
    verdicts = {slo["name"]: slo["verdict"] for slo in result["slos"]}
    assert verdicts == {"call-fast-at-baseline": "pass", "call-slow-under-fault": "pass"}, out
    assert result["outcome"] == "pass", out
    assert containers_of(project[0]) == {}
    assert "networks: !override" in (run_dir / "compose" / "peakday-override.yml").read_text()


def run_id_of(run_dir: Path) -> str:
    """The run's id, from the label peakday writes into its override file."""
    override = (run_dir / "compose" / "peakday-override.yml").read_text()
    return override.split("org.peakday.run: ", 1)[1].split()[0]


def wait_for_toxiproxy(name: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if "peakday-toxiproxy" in containers_of(name):
            time.sleep(3)  # into the load
            return
        time.sleep(0.5)
    raise AssertionError("peakday's Toxiproxy never appeared")


@pytest.mark.parametrize("how", ["sigterm", "sigkill-then-clean"])
def test_nothing_of_peakday_is_left(
    how: str, engine: DockerContainerEngine, project: tuple[str, Path], tmp_path: Path
) -> None:
    name, _ = project
    experiment = write_experiment(project, "60s")
    run_dir = tmp_path / "result"
    process = peakday("run", str(experiment), "--out", str(run_dir), "--no-color", "-q")
    wait_for_toxiproxy(name, process)
    run_id = run_id_of(run_dir)
    assert peakday_leftovers(run_id), "the run's container and network carry peakday's label"
    if how == "sigterm":
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=120)
    else:
        process.kill()
        process.communicate(timeout=30)
        assert "peakday-toxiproxy" in containers_of(name)  # SIGKILL leaves it
        cleaned = peakday("clean", str(tmp_path))
        out, err = cleaned.communicate(timeout=180)
        assert cleaned.returncode == 0, out + err
        assert "project" in out, out
    assert containers_of(name) == {}  # peakday brought it up: brought down
    assert peakday_leftovers(run_id) == []


STOREFRONT_EXPERIMENT = """
name: compose-storefront-short
platform: local
load:
  users: 6
  spawn_rate: 6
  duration: 26s
  warmup: 4s
  journeys: {shopper: 4, merchant: 1, pos: 1}
faults:
  - name: login-latency
    at: 12s
    duration: 6s
    proxy: auth_login
    toxic: latency
    attributes: {latency: 600, jitter: 0}
slos:
  - {name: login-answers-at-baseline, request: login, metric: p50, objective: "< 10000ms",
      phase: baseline}
  - {name: login-slowed-under-fault, request: login, metric: p50,
      objective: ">= baseline + 300ms", phase: fault}
"""


def test_a_storefront_experiment_runs_on_the_repositorys_compose_file(
    engine: DockerContainerEngine, tmp_path: Path
) -> None:
    """`--platform compose` without a compose section: compose/docker-compose.yml as a project of
    its own, its Toxiproxy driven by peakday; the fault reaches traffic (the reach check is
    not bypassed) and the project is brought down."""
    experiment = tmp_path / "short.yaml"
    experiment.write_text(STOREFRONT_EXPERIMENT)
    run_dir = tmp_path / "result"
    process = peakday(
        "run", str(experiment), "--platform", "compose", "--out", str(run_dir), "--no-color", "-q"
    )
    out, err = process.communicate(timeout=400)
    result = json.loads((run_dir / "result.json").read_text())
    assert result["environment"]["platform"] == "compose", out + err
    verdicts = {slo["name"]: slo["verdict"] for slo in result["slos"]}
    assert verdicts["login-slowed-under-fault"] == "pass", (result["slos"], out, err)
    (reach,) = result["fault_reach"]
    assert reach["reach"] == "yes", (reach, out, err)
    applied = [fault for fault in result["faults"] if fault["applied_at_s"] is not None]
    assert len(applied) == 1, out + err
    assert "--admin-port" in (run_dir / "compose" / "peakday-override.yml").read_text()
    assert peakday_leftovers(run_id_of(run_dir)) == []
