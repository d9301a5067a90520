"""A fault on a proxy no traffic uses is never scored (issue 12's false PASS): the user's own
service behind a real toxiproxy-server, their locustfile using one proxy while the fault sits
on another; the run must end inconclusive (exit 4) with that reason, not pass."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from integration.peakday_process import start_run
from peakday.results.model import Result

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LOCUSTFILE = """
from locust import HttpUser, constant, task


class Browser(HttpUser):
    wait_time = constant(0.05)

    @task
    def items(self):
        self.client.get("/items", name="items")
"""

# The app (here: the locustfile) talks to `items_front`; `sessions_front` stands where the
# session store would be, but nothing was ever pointed at it.
EXPERIMENT = """
name: fault-reaches-nothing
platform: external
external:
  upstreams: {{items_service: "127.0.0.1:{port}", sessions: "127.0.0.1:{sessions_port}"}}
  proxies: {{items_front: items_service, sessions_front: sessions}}
  locustfile: user_locust.py
  host: items_front
load:
  users: 4
  spawn_rate: 4
  duration: 12s
  warmup: 2s
faults:
  - name: sessions-hang
    at: 5s
    duration: 4s
    proxy: sessions_front
    toxic: latency
    attributes: {{latency: 2000, jitter: 0}}
slos:
  - {{name: items-fast, request: items, metric: p95, objective: "< 500ms", phase: all}}
  - {{name: items-succeed, request: items, metric: success_rate, objective: ">= 99%", phase: all}}
"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b'[{"id": 1}]'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[int, int]]:
    started = []
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
    yield started[0].server_address[1], started[1].server_address[1]
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def unreached_run(
    servers: tuple[int, int], tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, str, str, Path, list[str]]:
    folder = tmp_path_factory.mktemp("reach")
    (folder / "user_locust.py").write_text(LOCUSTFILE)
    experiment = folder / "unreached.yaml"
    experiment.write_text(EXPERIMENT.format(port=servers[0], sessions_port=servers[1]))
    run_dir = folder / "run"
    run = start_run(["run", str(experiment)], run_dir)
    code, out, err = run.wait(timeout_s=60)
    return code, out, err, run_dir, run.survivors()


def test_a_fault_on_a_proxy_nothing_uses_is_inconclusive_not_a_pass(
    unreached_run: tuple[int, str, str, Path, list[str]],
) -> None:
    code, out, err, run_dir, survivors = unreached_run
    assert code == 4, f"exit {code}\n{out}\n{err}"
    result = Result.model_validate_json((run_dir / "result.json").read_text())
    assert (result.verdict, result.outcome) == ("inconclusive", "inconclusive")
    # every SLO held: without the rule this run would have passed
    assert [slo.verdict for slo in result.slos] == ["pass", "pass"]
    [reach] = result.fault_reach
    assert (reach.reach, reach.before, reach.during) == ("no", 0.0, 0.0)
    assert result.score is not None
    assert result.score.reason.startswith(
        "Fault 'sessions-hang' reached no traffic: proxy sessions_front received 0 bytes"
    )
    assert "reached no traffic" in out + err  # the terminal summary says why
    assert survivors == []


def test_the_proxy_the_app_uses_was_measured_each_second(
    unreached_run: tuple[int, str, str, Path, list[str]],
) -> None:
    _, _, _, run_dir, _ = unreached_run
    result = Result.model_validate_json((run_dir / "result.json").read_text())
    assert result.traffic is not None and result.traffic.measured
    items = result.traffic.proxy("items_front")
    sessions = result.traffic.proxy("sessions_front")
    assert items is not None and sessions is not None
    assert items.upstream_bytes > 0 and items.downstream_bytes > 0
    # Locust holds keep-alive connections, whose bytes Toxiproxy counts only when they close
    # (at the end); the connections open to the proxy show it in use every second meanwhile.
    held = [s for s in items.seconds if s.connections]
    assert len(held) >= 10 and items.max_connections == 4, items.seconds  # 4 users
    assert sessions.upstream_bytes == sessions.downstream_bytes == 0
    assert sessions.max_connections == 0
    readings = [json.loads(line) for line in (run_dir / "traffic.jsonl").read_text().splitlines()]
    assert len(readings) >= 12 and all(r.get("measured") for r in readings if "error" not in r)
    summary = (run_dir / "summary.md").read_text()
    assert "| sessions\\_front | 0 B |" in summary
