"""The worked example of docs/own-stack.md, end to end and for real: pretalx 2025.2.2 from pinned
PyPI packages with Debian's redis-server, started by examples/own-stack/run-app.sh before the run,
pointed at the fixed listen address of the `redis_sessions` proxy; the shipped experiment and
locustfile (on ports of this test's own) hang Redis for 10 s.

From result.json: logins fail or exceed the hang during the fault while public pages keep being
served, and logins come back afterwards; then nothing of the app or of peakday is left running.
Without redis-server or the pinned pretalx the test fails when CI or PEAKDAY_REQUIRE_OWN_STACK=1
is set (.ci/run sets the latter), and skips otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from integration.peakday_process import REPO, start_run
from peakday.processes.children import free_loopback_ports
from peakday.results.model import Result, TimelineRow
from peakday.scoring.phases import rows_in, windows_for
from peakday.scoring.slo import measure

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLE = REPO / "examples" / "own-stack"
EXPERIMENT = EXAMPLE / "pretalx-session-store-hangs.yaml"
LOCUSTFILE = EXAMPLE / "pretalx_locust.py"
RUN_APP = EXAMPLE / "run-app.sh"
# The addresses the shipped experiment names; the test swaps in free ports of its own.
SHIPPED_REDIS, SHIPPED_SESSIONS, SHIPPED_WEB = (
    "127.0.0.1:16380",
    "127.0.0.1:16379",
    "127.0.0.1:18000",
)
REQUEST_TIMEOUT_S = 4.0  # the locustfile's default: a hung login is given up after this long
SETUP_TIMEOUT_S = 900  # a cold venv: ~35 s of pip and ~35 s of migrations on this machine


def unavailable(reason: str) -> None:
    """CI must not pass quietly without the app; a developer's machine may lack it."""
    if os.environ.get("CI") or os.environ.get("PEAKDAY_REQUIRE_OWN_STACK") == "1":
        pytest.fail(
            f"{reason}. CI or PEAKDAY_REQUIRE_OWN_STACK=1 is set, so the worked example of "
            "docs/own-stack.md must run. Hint: apt-get install redis-server; see "
            "examples/own-stack/run-app.sh setup.",
            pytrace=False,
        )
    pytest.skip(reason)


@dataclass(frozen=True)
class App:
    env: dict[str, str]
    redis_port: int
    sessions_port: int
    web_port: int
    state: Path

    def run_app(self, action: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(RUN_APP), action],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )

    def pids(self) -> list[int]:
        found = []
        for name in ("redis.pid", "gunicorn.pid"):
            path = self.state / name
            if path.exists() and path.read_text().strip():
                found.append(int(path.read_text().strip()))
        return found


def refuses(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def app_env() -> dict[str, str]:
    """The pinned app, installed once and cached under .tools/ (fast on every later run)."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed (Debian: apt-get install redis-server)")
    env = dict(os.environ)
    state = REPO / ".tools" / "own-stack-test"
    env.update(OWN_STACK_STATE=str(state), PRETALX_VENV=str(REPO / ".tools" / "pretalx-venv"))
    # Set-up starts Redis on REDIS_PORT for the migrations: a free port, not the example's.
    (env["REDIS_PORT"],) = (str(p) for p in free_loopback_ports(1))
    try:
        setup = subprocess.run(
            [str(RUN_APP), "setup"], env=env, capture_output=True, text=True,
            timeout=SETUP_TIMEOUT_S,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        unavailable(f"setting up pretalx took over {SETUP_TIMEOUT_S} s")
    if setup.returncode != 0:
        unavailable(
            "the pinned pretalx could not be installed or set up "
            f"(run-app.sh setup exit {setup.returncode}):\n{setup.stderr[-3000:]}"
        )
    return env


@pytest.fixture
def app(app_env: dict[str, str]) -> Iterator[App]:
    redis_port, sessions_port, web_port = free_loopback_ports(3)
    env = dict(app_env)
    env.update(
        REDIS_PORT=str(redis_port),
        SESSIONS_ADDR=f"127.0.0.1:{sessions_port}",
        WEB_PORT=str(web_port),
    )
    running = App(env, redis_port, sessions_port, web_port, Path(env["OWN_STACK_STATE"]))
    try:
        started = running.run_app("start", timeout_s=120)
        assert started.returncode == 0, f"run-app.sh start: {started.stderr}"
        yield running
    finally:
        pids = running.pids()
        stopped = running.run_app("stop", timeout_s=60)
        assert stopped.returncode == 0, stopped.stderr
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
        assert alive == [], f"run-app.sh stop left {alive} running"


def example_in(folder: Path, app: App) -> Path:
    """The shipped experiment and locustfile, on the ports of this test's app."""
    spec = EXPERIMENT.read_text()
    for shipped, own in (
        (SHIPPED_REDIS, f"127.0.0.1:{app.redis_port}"),
        (SHIPPED_SESSIONS, f"127.0.0.1:{app.sessions_port}"),
        (SHIPPED_WEB, f"127.0.0.1:{app.web_port}"),
    ):
        assert shipped in spec, f"the example no longer names {shipped}"
        spec = spec.replace(shipped, own)
    shutil.copy(LOCUSTFILE, folder / LOCUSTFILE.name)
    path = folder / EXPERIMENT.name
    path.write_text(spec)
    return path


def rows(result: Result, step: str, phase: str) -> list[TimelineRow]:
    return rows_in(result.timeline, step, windows_for(phase, result.phases))


def measured(result: Result, metric: str, step: str, phase: str) -> float:
    value, _ = measure(metric, step, result.timeline, windows_for(phase, result.phases))
    assert value is not None, f"no {metric} of {step} in {phase}"
    return value


def test_a_hung_session_store_stops_pretalx_logins_not_its_public_pages(
    tmp_path: Path, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEAKDAY_STATE_DIR", str(tmp_path / "state"))
    spec = example_in(tmp_path, app)
    run_dir = tmp_path / "run"
    run = start_run(["run", str(spec), "--no-color"], run_dir)
    code, out, err = run.wait(timeout_s=100)
    assert run.survivors() == [], "peakday left processes running"
    assert refuses(app.sessions_port), "the fixed-address proxy outlived the run"
    assert code == 0, f"exit {code}\n{out[-4000:]}\n{err[-4000:]}"
    assert_logins_hang_and_recover_while_public_pages_hold(
        Result.model_validate_json((run_dir / "result.json").read_text())
    )


def assert_logins_hang_and_recover_while_public_pages_hold(result: Result) -> None:
    (reach,) = result.fault_reach
    assert reach.reach == "yes", reach.detail  # pretalx really used the proxy

    # Baseline: organisers sign in.
    assert measured(result, "success_rate", "login", "baseline") >= 0.99
    # The hang: every login in the window failed or took at least the hang (the client gave up).
    during = rows(result, "login", "fault")
    assert sum(r.requests for r in during) >= 1, "no login was attempted during the hang"
    assert measured(result, "success_rate", "login", "fault") <= 0.5
    assert measured(result, "p95", "login", "fault") >= 0.9 * REQUEST_TIMEOUT_S * 1000
    # ...while anonymous visitors kept being served, quickly.
    public = rows(result, "public_home", "fault")
    assert sum(r.requests for r in public) >= 20, public
    assert sum(r.failures for r in public) == 0, public
    assert measured(result, "p95", "public_home", "fault") < 1000
    # Recovery: logins succeed again once Redis answers, to the end of the run.
    assert measured(result, "success_rate", "login", "recovery") >= 0.99
    last_seconds = [r for r in rows(result, "login", "recovery") if r.t_s >= 35]
    assert sum(r.requests for r in last_seconds) >= 2, last_seconds
    assert sum(r.failures for r in last_seconds) == 0, last_seconds
    (impact,) = result.fault_impacts
    assert impact.recovery == "recovered", impact
