"""The external platform on the user's own infrastructure, through the real CLI:

- a proxy on a fixed listen address that an app started *before* the run already uses, with
  the fault showing in the app's own responses as Locust measures them;
- a fixed port that is taken stops the run before anything starts (exit 3);
- a toxiproxy-server the user runs, holding unrelated proxies and toxics, which are exactly as
  before after runs that pass, fail, are interrupted, and are SIGKILLed then cleaned.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from integration.peakday_process import REPO, WatchedRun, cli_env, start_run
from peakday.processes.children import free_loopback_ports
from peakday.processes.tools import find_binary
from peakday.results.folder import RunFolder
from peakday.results.model import Result

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INJECTED_LATENCY_MS = 300.0


class BackendServer(ThreadingHTTPServer):
    """The service behind the proxy (the 'database' of the app)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), BackendHandler)


class BackendHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b'{"items": [1, 2, 3]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class AppLog:
    """What the app saw of its own upstream: each call's outcome and duration."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: list[tuple[float, int, float]] = field(default_factory=list)  # wall, status, ms


class AppServer(ThreadingHTTPServer):
    """A small app that reads its upstream address once, at start, as real apps read a
    database URL: every request is forwarded to http://<upstream>/items."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), AppHandler)
        self.upstream = upstream
        self.log = AppLog()


class AppHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: AppServer

    def do_GET(self) -> None:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://{self.server.upstream}/items", timeout=5) as up:
                body = up.read()
            status = 200
        except (urllib.error.URLError, OSError, TimeoutError):
            body, status = b'{"error": "upstream unavailable"}', 502
        elapsed_ms = (time.monotonic() - started) * 1000
        with self.server.log.lock:
            self.server.log.calls.append((time.time(), status, elapsed_ms))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def backend() -> Iterator[BackendServer]:
    server = BackendServer()
    serve(server)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Registry pointers of these runs go to the test's own folder, not ~/.local/state."""
    monkeypatch.setenv("PEAKDAY_STATE_DIR", str(tmp_path / "state"))


def events(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def peakday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "peakday", *args],
        cwd=REPO,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- a fixed listen address the app already uses -------------------------------------------

APP_LOCUSTFILE = """
from locust import HttpUser, constant, task


class AppUser(HttpUser):
    wait_time = constant(0.05)

    @task
    def items(self):
        self.client.get("/", name="app_items")
"""

FIXED_EXPERIMENT = """
name: fixed-listen
platform: external
external:
  upstreams: {{items_db: "127.0.0.1:{backend}"}}
  proxies:
    items_db_front: {{upstream: items_db, listen: "127.0.0.1:{fixed}"}}
  locustfile: app_locust.py
  host: "http://127.0.0.1:{app}"
load: {{users: 4, spawn_rate: 4, duration: 14s, warmup: 2s}}
faults:
  - {{name: db-latency, at: 6s, duration: 4s, proxy: items_db_front, toxic: latency,
      attributes: {{latency: {latency:.0f}, jitter: 0}}}}
slos:
  - {{name: app-fast, request: app_items, metric: p95, objective: "< 150ms", phase: baseline}}
  - {{name: app-slow-under-fault, request: app_items, metric: p95, objective: "> 250ms",
      phase: fault}}
"""


def test_a_fault_on_a_fixed_listen_proxy_shows_in_an_app_started_before_the_run(
    tmp_path: Path, backend: BackendServer
) -> None:
    (fixed,) = free_loopback_ports(1)
    app = AppServer(f"127.0.0.1:{fixed}")  # started before the run, pointed at the fixed port
    serve(app)
    try:
        with pytest.raises(urllib.error.HTTPError) as before:
            urllib.request.urlopen(f"http://127.0.0.1:{app.server_address[1]}/", timeout=5)
        assert before.value.code == 502, "nothing listens on the fixed port before the run"
        (tmp_path / "app_locust.py").write_text(APP_LOCUSTFILE)
        spec = tmp_path / "fixed.yaml"
        spec.write_text(
            FIXED_EXPERIMENT.format(
                backend=backend.server_address[1],
                fixed=fixed,
                app=app.server_address[1],
                latency=INJECTED_LATENCY_MS,
            )
        )
        run_dir = tmp_path / "run"
        run = start_run(["run", str(spec)], run_dir)
        code, out, err = run.wait(timeout_s=60)
    finally:
        app.shutdown()
        app.server_close()
    assert code == 0, f"exit {code}\n{out}\n{err}"
    ready = next(e for e in events(run_dir) if e["kind"] == "platform_ready")
    assert ready["proxies"]["items_db_front"] == f"127.0.0.1:{fixed}"

    from peakday.scoring.phases import windows_for
    from peakday.scoring.slo import measure

    result = Result.model_validate_json((run_dir / "result.json").read_text())
    phases = result.phases
    baseline, _ = measure("p95", "app_items", result.timeline, windows_for("baseline", phases))
    during, _ = measure("p95", "app_items", result.timeline, windows_for("fault", phases))
    assert baseline is not None and during is not None
    assert during - baseline >= 0.8 * INJECTED_LATENCY_MS, (baseline, during)
    # The app's own view: its upstream calls through the fixed port slowed by the toxic,
    # and they succeeded (the app was never restarted nor re-pointed).
    with app.log.lock:
        calls = list(app.log.calls)
    ok = [ms for _, status, ms in calls[1:] if status == 200]
    assert len(ok) > 50, len(ok)
    assert max(ok) >= 0.9 * INJECTED_LATENCY_MS
    assert sorted(ok)[len(ok) // 2] < 0.5 * INJECTED_LATENCY_MS, "most calls were outside it"
    # After the run the proxy is gone again: the app sees its upstream refused.
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{fixed}/items", timeout=5)


def test_a_taken_fixed_port_stops_the_run_before_anything_starts(
    tmp_path: Path, backend: BackendServer
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        (tmp_path / "app_locust.py").write_text(APP_LOCUSTFILE)
        spec = tmp_path / "taken.yaml"
        spec.write_text(
            FIXED_EXPERIMENT.format(
                backend=backend.server_address[1], fixed=taken, app=1, latency=100
            )
        )
        run_dir = tmp_path / "run"
        run = start_run(["run", str(spec)], run_dir)
        code, out, err = run.wait(timeout_s=30)
    assert code == 3, f"exit {code}\n{out}\n{err}"
    assert f"127.0.0.1:{taken}" in err and f"port {taken}" in err
    assert f"pid {os.getpid()}" in err, "names the process holding the port"
    assert not (run_dir / "pids.json").exists(), "nothing may be started"
    assert "platform_ready" not in [e["kind"] for e in events(run_dir)]


# --- the user's own toxiproxy-server ---------------------------------------------------------


@dataclass
class UserToxiproxy:
    process: subprocess.Popen[bytes]
    api: str  # http://127.0.0.1:PORT

    def call(self, method: str, path: str, body: object | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.api + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=5) as response:
            text = response.read()
        return json.loads(text) if text.strip() else None

    def snapshot(self) -> dict[str, Any]:
        """Every proxy with its listen, upstream, enabled and full toxics."""
        proxies = self.call("GET", "/proxies")
        return {
            name: {
                "listen": p["listen"],
                "upstream": p["upstream"],
                "enabled": p["enabled"],
                "toxics": sorted(p["toxics"], key=lambda t: t["name"]),
            }
            for name, p in proxies.items()
        }


@pytest.fixture
def user_toxiproxy(backend: BackendServer) -> Iterator[UserToxiproxy]:
    tools = [Path(d) for d in (os.environ.get("PEAKDAY_TOOLS_DIR"),) if d]
    server = find_binary("toxiproxy-server", [*tools, REPO / ".tools" / "bin"])
    api_port, db_port, cache_port, edge_port = free_loopback_ports(4)
    process = subprocess.Popen(
        # -proxy-metrics, as docs/external.md asks of a user's server: without the per-proxy
        # counters a fault's reach is not measured and the run is inconclusive.
        [server, "-host", "127.0.0.1", "-port", str(api_port), "-proxy-metrics"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    user = UserToxiproxy(process, f"http://127.0.0.1:{api_port}")
    deadline = time.monotonic() + 10
    while True:
        try:
            user.call("GET", "/version")
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    backend_address = f"127.0.0.1:{backend.server_address[1]}"
    # The user's own setup, which no peakday run may change.
    user.call("POST", "/proxies", {"name": "user_db", "listen": f"127.0.0.1:{db_port}",
                                   "upstream": "127.0.0.1:9"})  # fmt: skip
    user.call("POST", "/proxies/user_db/toxics", {"name": "user_latency", "type": "latency",
              "stream": "downstream", "toxicity": 0.5, "attributes": {"latency": 42}})  # fmt: skip
    user.call("POST", "/proxies", {"name": "user_cache", "listen": f"127.0.0.1:{cache_port}",
                                   "upstream": "127.0.0.1:9", "enabled": False})  # fmt: skip
    # A proxy of the user's that the runs adopt (existing: true), with a toxic of the user's.
    user.call("POST", "/proxies", {"name": "shared_edge", "listen": f"127.0.0.1:{edge_port}",
                                   "upstream": backend_address})  # fmt: skip
    user.call("POST", "/proxies/shared_edge/toxics", {"name": "user_slow", "type": "latency",
              "stream": "upstream", "toxicity": 1.0, "attributes": {"latency": 1}})  # fmt: skip
    yield user
    process.kill()
    process.wait(timeout=10)


EDGE_LOCUSTFILE = """
import os

from locust import HttpUser, constant, task


class Browser(HttpUser):
    wait_time = constant(0.05)

    @task
    def items(self):
        self.client.get("/items", name="items")

    @task
    def edge(self):
        self.client.get(f"http://{os.environ['PEAKDAY_PROXY_SHARED_EDGE']}/items", name="edge")
"""

OWN_SERVER_EXPERIMENT = """
name: own-toxiproxy
platform: external
external:
  upstreams: {{items_service: "127.0.0.1:{backend}"}}
  proxies:
    items_front: items_service
    shared_edge: {{existing: true}}
  locustfile: edge_locust.py
  host: items_front
  toxiproxy: {{api: "{api}"}}
load: {{users: 4, spawn_rate: 4, duration: 12s, warmup: 1s}}
faults:
  - {{name: items-latency, at: 3s, duration: 5s, proxy: items_front, toxic: latency,
      attributes: {{latency: 100, jitter: 0}}}}
  - {{name: edge-latency, at: 3s, duration: 4s, proxy: shared_edge, toxic: latency,
      attributes: {{latency: 100, jitter: 0}}}}
  - {{name: edge-down, at: 8s, duration: 2s, proxy: shared_edge, toxic: down}}
slos:
  - {{name: items-served, request: items, metric: success_rate, objective: "{objective}",
      key: true}}
"""


def own_server_spec(tmp_path: Path, backend: BackendServer, api: str, objective: str) -> Path:
    (tmp_path / "edge_locust.py").write_text(EDGE_LOCUSTFILE)
    spec = tmp_path / "own.yaml"
    spec.write_text(
        OWN_SERVER_EXPERIMENT.format(
            backend=backend.server_address[1], api=api, objective=objective
        )
    )
    return spec


def wait_for_event(run: WatchedRun, kind: str, count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and run.popen.poll() is None:
        run.poll_children()
        if [e["kind"] for e in events(run.run_dir)].count(kind) >= count:
            return
        time.sleep(0.05)
    pytest.fail(f"never saw {count} {kind} events")


def ledger_kinds(run_dir: Path) -> list[str]:
    return [
        json.loads(line)["kind"]
        for line in RunFolder(run_dir).toxiproxy_ledger.read_text().splitlines()
    ]


@pytest.mark.parametrize(
    ("objective", "exit_code"), [(">= 90%", 0), ("< 1%", 1)], ids=["passes", "fails"]
)
def test_a_run_that_ends_leaves_the_users_toxiproxy_exactly_as_it_was(
    tmp_path: Path,
    backend: BackendServer,
    user_toxiproxy: UserToxiproxy,
    objective: str,
    exit_code: int,
) -> None:
    before = user_toxiproxy.snapshot()
    spec = own_server_spec(tmp_path, backend, user_toxiproxy.api, objective)
    run_dir = tmp_path / "run"
    run = start_run(["run", str(spec)], run_dir)
    code, out, err = run.wait(timeout_s=60)
    assert code == exit_code, f"exit {code}\n{out}\n{err}"
    assert user_toxiproxy.snapshot() == before
    kinds = [e["kind"] for e in events(run_dir)]
    assert kinds.count("fault_applied") == 3 and kinds.count("fault_removed") == 3
    left = next(e for e in events(run_dir) if e["kind"] == "toxics_after_rollback")
    assert left["toxics"] == {}, "the user's own toxic on shared_edge is not counted as left"
    assert "proxy_created" in ledger_kinds(run_dir) and "proxy_deleted" in ledger_kinds(run_dir)
    assert run.survivors() == []
    result = Result.model_validate_json((run_dir / "result.json").read_text())
    edge = [row for row in result.timeline if row.name == "edge" and row.requests]
    assert edge, "load went through the adopted proxy"


def test_an_interrupted_run_leaves_the_users_toxiproxy_exactly_as_it_was(
    tmp_path: Path, backend: BackendServer, user_toxiproxy: UserToxiproxy
) -> None:
    before = user_toxiproxy.snapshot()
    spec = own_server_spec(tmp_path, backend, user_toxiproxy.api, ">= 90%")
    run_dir = tmp_path / "run"
    run = start_run(["run", str(spec)], run_dir)
    wait_for_event(run, "fault_applied", 2)
    during = user_toxiproxy.snapshot()
    assert "items_front" in during
    assert {t["name"] for t in during["shared_edge"]["toxics"]} == {
        "user_slow",
        "peakday-1-latency-downstream",
    }
    run.popen.send_signal(signal.SIGINT)
    code, out, err = run.wait(timeout_s=30)
    assert code == 130, f"exit {code}\n{out}\n{err}"
    assert user_toxiproxy.snapshot() == before
    assert run.survivors() == []


def test_a_sigkilled_run_is_cleaned_from_the_users_toxiproxy_and_nothing_else(
    tmp_path: Path, backend: BackendServer, user_toxiproxy: UserToxiproxy
) -> None:
    before = user_toxiproxy.snapshot()
    spec = own_server_spec(tmp_path, backend, user_toxiproxy.api, ">= 90%")
    run_dir = tmp_path / "runs" / "killed"
    run = start_run(["run", str(spec)], run_dir)
    wait_for_event(run, "fault_applied", 3)  # shared_edge is down, items_front has a toxic
    run.popen.send_signal(signal.SIGKILL)
    run.popen.communicate(timeout=30)
    left = user_toxiproxy.snapshot()
    assert "items_front" in left, "the kill left peakday's proxy behind"
    assert left["shared_edge"]["enabled"] is False, "the kill left the adopted proxy down"

    cleaned = peakday("clean", "--no-docker", str(tmp_path / "runs"))
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert user_toxiproxy.snapshot() == before, cleaned.stdout
    assert "items_front" in cleaned.stdout
    assert run.survivors() == []
    again = peakday("clean", "--no-docker", str(tmp_path / "runs"))
    assert "items_front" not in again.stdout, "a ledger is undone once"
    assert user_toxiproxy.snapshot() == before
