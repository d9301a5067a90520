"""`platform: external` through the real CLI: the user's own HTTP service and locustfile, a real
toxiproxy-server in front of it, and the user's Locust class instead of the storefront's."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from integration.peakday_process import load_result, start_run

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INJECTED_LATENCY_MS = 200.0

LOCUSTFILE = """
from locust import HttpUser, constant, task


class Browser(HttpUser):
    wait_time = constant(0.05)

    @task
    def items(self):
        self.client.get("/items", name="items")
"""

EXPERIMENT = """
name: external-items
platform: external
external:
  upstreams: {{items_service: "127.0.0.1:{port}"}}
  proxies: {{items_front: items_service}}
  locustfile: user_locust.py
  host: items_front
load:
  users: 4
  spawn_rate: 4
  duration: 16s
  warmup: 2s
faults:
  - name: items-latency
    at: 6s
    duration: 5s
    proxy: items_front
    toxic: latency
    attributes: {{latency: {latency:.0f}, jitter: 0}}
slos:
  - {{name: items-fast-at-baseline, request: items, metric: p95, objective: "< 100ms",
      phase: baseline}}
  - {{name: items-slow-under-fault, request: items, metric: p95, objective: "> 150ms",
      phase: fault}}
  - {{name: items-succeed, request: items, metric: success_rate, objective: ">= 99%", phase: all}}
"""


class ItemsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ItemsHandler)
        self.requests: Counter[str] = Counter()
        self.lock = threading.Lock()


class ItemsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as most services a user runs would
    server: ItemsServer

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests[self.path] += 1
        if self.path == "/items":
            body = json.dumps([{"id": 1, "name": "tea"}]).encode()
        elif self.path == "/health":
            body = b'{"ok": true}'
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: thousands of requests


@pytest.fixture(scope="module")
def items_server() -> Iterator[ItemsServer]:
    server = ItemsServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def external_run(
    items_server: ItemsServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, str, str, Path, list[str]]:
    folder = tmp_path_factory.mktemp("external")
    (folder / "user_locust.py").write_text(LOCUSTFILE)
    experiment = folder / "external.yaml"
    port = items_server.server_address[1]
    experiment.write_text(EXPERIMENT.format(port=port, latency=INJECTED_LATENCY_MS))
    run_dir = folder / "run"
    run = start_run(["run", str(experiment)], run_dir)
    code, out, err = run.wait(timeout_s=55)
    return code, out, err, run_dir, run.survivors()


def test_external_run_passes_with_the_users_own_class_and_every_slo_has_a_value(
    external_run: tuple[int, str, str, Path, list[str]],
) -> None:
    code, out, err, run_dir, _ = external_run
    assert code == 0, f"exit {code}\n{out}\n{err}"
    result = load_result(run_dir)
    assert result.run.status == "completed"
    assert {slo.name for slo in result.slos} == {
        "items-fast-at-baseline",
        "items-slow-under-fault",
        "items-succeed",
    }
    for slo in result.slos:
        assert slo.value is not None, slo
        assert slo.verdict == "pass", slo
    assert {row.name for row in result.timeline if row.requests} == {"items"}


def test_items_p95_under_the_fault_rises_by_most_of_the_injected_latency(
    external_run: tuple[int, str, str, Path, list[str]],
) -> None:
    from peakday.scoring.phases import windows_for
    from peakday.scoring.slo import measure

    _, _, _, run_dir, _ = external_run
    result = load_result(run_dir)
    baseline, _ = measure("p95", "items", result.timeline, windows_for("baseline", result.phases))
    during, _ = measure("p95", "items", result.timeline, windows_for("fault", result.phases))
    assert baseline is not None and during is not None
    assert during - baseline >= 0.8 * INJECTED_LATENCY_MS, (baseline, during)


def test_load_went_through_toxiproxy_to_the_users_service(
    external_run: tuple[int, str, str, Path, list[str]], items_server: ItemsServer
) -> None:
    _, _, _, run_dir, _ = external_run
    result = load_result(run_dir)
    measured = sum(row.requests for row in result.timeline if row.name == "items")
    served = items_server.requests["/items"]
    assert measured > 0
    # Warmup requests are served but not measured; nothing reaches the service another way.
    assert served >= measured, (served, measured)
    ready = next(
        json.loads(line)
        for line in (run_dir / "events.jsonl").read_text().splitlines()
        if json.loads(line)["kind"] == "platform_ready"
    )
    proxy_address = ready["proxies"]["items_front"]
    assert proxy_address != f"127.0.0.1:{items_server.server_address[1]}"
    plan = json.loads((run_dir / "load-plan.json").read_text())
    assert plan["weights"] == {}, "the locustfile's own classes and weights"


def test_no_toxic_remains_and_no_child_process_survives(
    external_run: tuple[int, str, str, Path, list[str]],
) -> None:
    _, _, _, run_dir, survivors = external_run
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    leftovers = [e for e in events if e["kind"] == "toxics_after_rollback"]
    assert leftovers and leftovers[0]["toxics"] == {}
    assert survivors == []
    assert json.loads((run_dir / "pids.json").read_text())["children"] == []


# TEST-NET-3 (RFC 5737): never routed, and the run must refuse before sending anything anyway.
NON_LOCAL_EXPERIMENT = """
name: external-far
platform: external
external:
  upstreams: {{far: "203.0.113.10:80"}}
  proxies: {{far_front: far}}
  locustfile: user_locust.py
  host: far_front
  allow_non_local_targets: {allow}
load: {{users: 1, spawn_rate: 1, duration: 5s}}
"""


@pytest.mark.parametrize(
    ("spec_allows", "flag"),
    [(False, False), (True, False), (False, True)],
    ids=["neither", "spec-only", "flag-only"],
)
def test_non_local_upstream_is_refused_without_both_yeses(
    tmp_path: Path, spec_allows: bool, flag: bool
) -> None:
    (tmp_path / "user_locust.py").write_text(LOCUSTFILE)
    experiment = tmp_path / "far.yaml"
    experiment.write_text(NON_LOCAL_EXPERIMENT.format(allow=str(spec_allows).lower()))
    args = ["run", str(experiment), *(["--allow-non-local"] if flag else [])]
    run_dir = tmp_path / "run"
    run = start_run(args, run_dir)
    code, out, err = run.wait(timeout_s=30)
    assert code == 2, f"exit {code}\n{out}\n{err}"
    assert "203.0.113.10:80" in err
    # The refusal names what is missing.
    assert ("--allow-non-local" if spec_allows else "allow_non_local_targets") in err
    assert not (run_dir / "pids.json").exists(), "nothing may be started"
    assert run.survivors() == []
