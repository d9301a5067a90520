"""A login-only fault on a shared edge, through the real CLI: one local app serves /login and
/items, each route has its own proxy (external.routes), and the user's locustfile routes with
RoutedHttpUser instead of by hand. Latency on the login route's proxy slows the logins only."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from integration.peakday_process import start_run
from peakday.results.model import Result
from peakday.scoring.phases import windows_for
from peakday.scoring.slo import measure

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INJECTED_LATENCY_MS = 300.0

# Relative paths only: which proxy a request goes through is the route table's business.
LOCUSTFILE = """
from locust import constant, task

from peakday.load.locust_routes import RoutedHttpUser


class Shopper(RoutedHttpUser):
    wait_time = constant(0.05)

    @task
    def login(self):
        self.client.post("/login", json={"user": "a"}, name="login")

    @task
    def items(self):
        self.client.get("/items", name="items")
"""

EXPERIMENT = """
name: external-routes
platform: external
external:
  upstreams: {{shop: "127.0.0.1:{port}"}}
  proxies: {{edge: shop, edge_login: shop}}   # two doors into the same app
  routes: {{/login: edge_login}}
  locustfile: user_locust.py
  host: edge
load:
  users: 6
  spawn_rate: 6
  duration: 16s
  warmup: 2s
faults:
  - name: login-latency
    at: 6s
    duration: 6s
    proxy: edge_login
    toxic: latency
    attributes: {{latency: {latency:.0f}, jitter: 0}}
slos:
  - {{name: login-succeeds, request: login, metric: success_rate, objective: ">= 99%"}}
  - {{name: items-succeed, request: items, metric: success_rate, objective: ">= 99%"}}
"""


class ShopServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ShopHandler)
        self.requests: Counter[str] = Counter()
        self.lock = threading.Lock()


class ShopHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ShopServer

    def _answer(self, expected_method: str, path: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with self.server.lock:
            self.server.requests[f"{self.command} {self.path}"] += 1
        if path != self.path or expected_method != self.command:
            self.send_error(404)
            return
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer("GET", "/items")

    def do_POST(self) -> None:
        self._answer("POST", "/login")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopServer]:
    server = ShopServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def routed_run(
    shop: ShopServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, str, str, Path]:
    folder = tmp_path_factory.mktemp("routes")
    (folder / "user_locust.py").write_text(LOCUSTFILE)
    experiment = folder / "routes.yaml"
    port = shop.server_address[1]
    experiment.write_text(EXPERIMENT.format(port=port, latency=INJECTED_LATENCY_MS))
    run_dir = folder / "run"
    run = start_run(["run", str(experiment)], run_dir)
    code, out, err = run.wait(timeout_s=55)
    assert run.survivors() == []
    return code, out, err, run_dir


def p50_by_phase(result: Result, request: str) -> tuple[float, float]:
    baseline, _ = measure("p50", request, result.timeline, windows_for("baseline", result.phases))
    during, _ = measure("p50", request, result.timeline, windows_for("fault", result.phases))
    assert baseline is not None and during is not None, request
    return baseline, during


def test_a_fault_on_the_login_routes_proxy_slows_only_the_logins(
    routed_run: tuple[int, str, str, Path], shop: ShopServer
) -> None:
    code, out, err, run_dir = routed_run
    assert code == 0, f"exit {code}\n{out}\n{err}"
    result = Result.model_validate_json((run_dir / "result.json").read_text())
    assert {row.name for row in result.timeline if row.requests} == {"login", "items"}
    assert shop.requests["POST /login"] > 0 and shop.requests["GET /items"] > 0
    assert set(shop.requests) == {"POST /login", "GET /items"}, "every request reached its path"

    login_baseline, login_fault = p50_by_phase(result, "login")
    items_baseline, items_fault = p50_by_phase(result, "items")
    assert login_fault - login_baseline >= 0.8 * INJECTED_LATENCY_MS, (login_baseline, login_fault)
    assert items_fault - items_baseline <= 0.1 * INJECTED_LATENCY_MS, (items_baseline, items_fault)
