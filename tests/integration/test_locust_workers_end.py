"""The end of a distributed run: a master and two real Locust workers with the plugin, whose
users are still inside slow requests when the plan ends. Every request the server answered is in
the merged histograms and in Locust's own count."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from integration.test_locust_plugin import PLUGIN, clean_env, locust_argv, write_plan
from peakday.load.metricsfile import parse_metrics_jsonl
from peakday.processes.children import free_loopback_ports

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLOW_S = 1.5  # longer than the 0.5 s Locust's master listens after telling workers to quit


class _SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _SlowServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        time.sleep(SLOW_S)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
        with self.server.lock:
            self.server.answered += 1


class _SlowServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SlowHandler)
        self.lock = threading.Lock()
        self.answered = 0


@pytest.fixture
def slow_server() -> Iterator[_SlowServer]:
    server = _SlowServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def locust_aggregated_count(csv_prefix: Path) -> int:
    with Path(f"{csv_prefix}_stats.csv").open() as handle:
        row = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return int(row["Request Count"])


@pytest.mark.parametrize("ending", ["plan-ends", "sigterm"])
def test_workers_last_records_reach_the_master_before_it_quits(
    tmp_path: Path, slow_server: _SlowServer, ending: str
) -> None:
    url = f"http://127.0.0.1:{slow_server.server_address[1]}"
    locustfile = tmp_path / "slow_locustfile.py"
    locustfile.write_text(
        textwrap.dedent(
            f"""
            from locust import HttpUser, constant, task

            class Slow(HttpUser):
                host = {url!r}
                wait_time = constant(0)

                @task
                def slow(self):
                    self.client.get("/slow", name="slow")
            """
        )
    )
    duration_s = 4.0 if ending == "plan-ends" else 120.0
    plan_path, metrics = write_plan(tmp_path, users=4, request_timeout_s=3.0, duration_s=duration_s)
    (port,) = free_loopback_ports(1)
    csv_prefix = tmp_path / "locust"
    master_argv = locust_argv(
        locustfile,
        [
            "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
            "--expect-workers", "2", "--csv", str(csv_prefix),
        ],
    )  # fmt: skip
    worker_argv = [
        sys.executable, "-m", "locust", "-f", f"{locustfile},{PLUGIN}", "--worker",
        "--master-host", "127.0.0.1", "--master-port", str(port),
    ]  # fmt: skip
    master = subprocess.Popen(
        master_argv,
        env=clean_env(PEAKDAY_LOAD_PLAN=str(plan_path)),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    workers = [
        subprocess.Popen(
            worker_argv,
            env=clean_env(),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        if ending == "sigterm":  # as the orchestrator stops a run early: SIGTERM to the master
            deadline = time.monotonic() + 60
            while slow_server.answered < 8:
                assert time.monotonic() < deadline and master.poll() is None
                time.sleep(0.05)
            master.send_signal(signal.SIGTERM)
        output, _ = master.communicate(timeout=90)
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.terminate()
        for process in (master, *workers):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    assert master.returncode == 0, output
    log = parse_metrics_jsonl(metrics.read_text())
    assert log.load_stopped_wall is not None, output
    merged = sum(record.requests for record in log.step_seconds)
    # Users were inside a request when the plan ended; those requests count too.
    assert merged == slow_server.answered > 0, output
    assert merged == locust_aggregated_count(csv_prefix), output
    assert {sample.process for sample in log.generator} >= {"master", "worker-0", "worker-1"}
