"""Real Locust subprocesses with the peakday plugin, against small HTTP servers started here."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from peakday.load.histograms import merge_histograms, summarize
from peakday.load.loadplan import LoadPlan
from peakday.load.metricsfile import MetricsLog, parse_metrics_jsonl

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "src" / "peakday" / "load" / "locust_plugin.py"
STOREFRONT = REPO / "locustfiles" / "storefront.py"
DURATION_S = 4.0
# Startup (imports, ~1 s) plus shutdown; the run itself must end at DURATION_S by the shape.
EXIT_MARGIN_S = 8.0


# --- Servers -------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _CountingServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _reply(self, status: int, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> object:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"null")
        except json.JSONDecodeError:
            return None


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 resets connections when 20 users connect at once

    def __init__(self, handler: type[_Handler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.problems: list[str] = []

    def count(self, key: str) -> None:
        with self.lock:
            self.counts[key] += 1

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _FastSlowHandler(_Handler):
    def do_GET(self) -> None:
        self.server.count(self.path)
        if self.path == "/slow":
            time.sleep(0.2)
        self._reply(200, {"path": self.path})


class _StorefrontHandler(_Handler):
    """Just enough of auth, checkout and labels to check what the journeys send."""

    login_status = 200  # tests switch auth off by subclassing with 503
    pools: ClassVar[dict[str, int]] = {"shopper": 100, "merchant": 20, "pos": 20}

    def do_POST(self) -> None:
        body = self._body()
        body = body if isinstance(body, dict) else {}
        if self.path == "/login":
            self._login(body)
        elif self.path in ("/checkout", "/labels"):
            self._authorised(self.path, body)
        else:
            self._reply(404, {"detail": "not found"})

    def _login(self, body: dict[str, object]) -> None:
        self.server.count("login")
        if self.login_status != 200:
            self._reply(self.login_status, {"detail": "auth unavailable"})
            return
        username = str(body.get("username"))
        role, _, number = username.partition("-")
        if (
            role not in self.pools
            or len(number) != 3
            or int(number) >= self.pools[role]
            or body.get("password") != f"pw-{username}"
        ):
            self.server.problem(f"bad login {body!r}")
            self._reply(401, {"detail": "invalid credentials"})
            return
        token = f"{role}.{uuid.uuid4().hex}"
        self._reply(
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": 900, "role": role},
        )

    def _authorised(self, path: str, body: dict[str, object]) -> None:
        role = self.headers.get("Authorization", "").removeprefix("Bearer ").partition(".")[0]
        key = self.headers.get("Idempotency-Key", "")
        try:
            uuid.UUID(key)
        except ValueError:
            self.server.problem(f"bad idempotency key {key!r}")
        if path == "/labels":
            self.server.count("label")
            valid = (
                role == "merchant"
                and isinstance(body.get("order_ref"), str)
                and type(body.get("weight_g")) is int
                and body.get("service_level") in ("ground", "express")
            )
        else:
            channel = body.get("channel")
            self.server.count("pos_checkout" if channel == "pos" else "checkout")
            expected_role = {"online": "shopper", "pos": "pos"}.get(str(channel))
            valid = role == expected_role and body.get("items") == [
                {"sku": "SKU-1001", "quantity": 1}
            ]
        if not valid:
            self.server.problem(f"bad {path} as {role!r}: {body!r}")
            self._reply(422, {"detail": "invalid"})
            return
        self._reply(201, {"order_id" if path == "/checkout" else "label_id": uuid.uuid4().hex})


class _AuthDownHandler(_StorefrontHandler):
    login_status = 503


Serve = Callable[[type[_Handler]], _CountingServer]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[_CountingServer] = []

    def start(handler: type[_Handler]) -> _CountingServer:
        server = _CountingServer(handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --- Running Locust ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocustRun:
    returncode: int
    elapsed_s: float
    output: str
    metrics: MetricsLog

    def requests_by_step(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for record in self.metrics.step_seconds:
            totals[record.step] += record.requests
        return dict(totals)

    def failures_by_step(self) -> dict[str, Counter[str]]:
        totals: dict[str, Counter[str]] = {}
        for record in self.metrics.step_seconds:
            totals.setdefault(record.step, Counter()).update(
                {kind: count for kind, count in record.failures.items() if count}
            )
        return totals


def locust_argv(locustfile: Path, extra: Sequence[str] = ()) -> list[str]:
    """The command line peakday should use (see the report): the plan's shape does the rest."""
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        f"{locustfile},{PLUGIN}",
        "--headless",
        "--only-summary",
        "--stop-timeout",
        "3",
        "--exit-code-on-error",
        "0",
        *extra,
    ]


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LOCUST_", "PEAKDAY_"))
    }
    return {**env, **extra}


def write_plan(tmp_path: Path, **overrides: object) -> tuple[Path, Path]:
    metrics = tmp_path / "out" / "metrics.jsonl"
    fields: dict[str, object] = {
        "metrics_file": str(metrics),
        "duration_s": DURATION_S,
        "users": 4,
        "spawn_rate": 20.0,
        "request_timeout_s": 2.0,
    }
    fields.update(overrides)
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(LoadPlan(**fields).to_json())  # type: ignore[arg-type]
    return plan_path, metrics


def run_locust(argv: list[str], env: dict[str, str], metrics: Path, cwd: Path) -> LocustRun:
    started = time.monotonic()
    completed = subprocess.run(
        argv,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=DURATION_S + 60,
    )
    elapsed_s = time.monotonic() - started
    text = metrics.read_text(encoding="utf-8") if metrics.exists() else ""
    output = completed.stdout + completed.stderr
    return LocustRun(completed.returncode, elapsed_s, output, parse_metrics_jsonl(text))


def write_fast_slow_locustfile(tmp_path: Path, url: str) -> Path:
    locustfile = tmp_path / "test_locustfile.py"
    locustfile.write_text(
        textwrap.dedent(
            f"""
            from locust import HttpUser, constant, task

            class Fast(HttpUser):
                host = {url!r}
                wait_time = constant(0.05)

                @task
                def fast(self):
                    self.client.get("/fast", name="fast")

            class Slow(HttpUser):
                host = {url!r}
                wait_time = constant(0.05)

                @task
                def slow(self):
                    self.client.get("/slow", name="slow")

            class Unused(HttpUser):
                host = {url!r}
                wait_time = constant(0.05)

                @task
                def unused(self):
                    self.client.get("/unused", name="unused")
            """
        )
    )
    return locustfile


def assert_well_formed(run: LocustRun) -> None:
    log = run.metrics
    assert log.load_started_wall is not None, run.output
    assert log.load_stopped_wall is not None, run.output
    assert not log.truncated_tail
    assert log.step_seconds, run.output
    for record in log.step_seconds:
        assert record.histogram().get_total_count() == record.requests
        assert record.out_of_range == 0


# --- The plugin ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra_args",
    [(), ("-u", "50", "-r", "50", "-t", "9s")],
    ids=["plan-only", "with-u-r-t"],
)
def test_plan_shapes_the_run_and_metrics_match_the_server(
    tmp_path: Path, serve: Serve, extra_args: tuple[str, ...]
) -> None:
    server = serve(_FastSlowHandler)
    locustfile = write_fast_slow_locustfile(tmp_path, server.url)
    plan_path, metrics = write_plan(tmp_path, weights={"Fast": 1.0, "Slow": 1.0, "Unused": 0.0})

    run = run_locust(
        locust_argv(locustfile, extra_args),
        clean_env(PEAKDAY_LOAD_PLAN=str(plan_path)),
        metrics,
        tmp_path,
    )

    assert run.returncode == 0, run.output
    assert run.elapsed_s < DURATION_S + EXIT_MARGIN_S
    assert_well_formed(run)
    lines = metrics.read_text().splitlines()
    assert json.loads(lines[0])["kind"] == "load_started"
    assert json.loads(lines[-1])["kind"] == "load_stopped"
    # The shape, not -u/-r/-t, decides: 4 users, stopped at DURATION_S.
    assert max(sample.users for sample in run.metrics.generator) == 4
    stopped_after_s = run.metrics.load_stopped_wall - run.metrics.load_started_wall  # type: ignore[operator]
    assert DURATION_S <= stopped_after_s < DURATION_S + 2.0
    assert {record.t_s for record in run.metrics.step_seconds} <= set(range(int(DURATION_S) + 1))
    # Every request the server answered was recorded once (--stop-timeout lets users finish).
    assert run.requests_by_step() == {
        "fast": server.counts["/fast"],
        "slow": server.counts["/slow"],
    }
    assert server.counts["/unused"] == 0
    assert run.failures_by_step() == {"fast": Counter(), "slow": Counter()}
    slow = summarize(
        merge_histograms(r.histogram_b64 for r in run.metrics.step_seconds if r.step == "slow")
    )
    assert slow is not None
    assert 200.0 <= slow.p50_ms < 300.0


def test_sigterm_mid_run_stops_the_load_and_flushes(tmp_path: Path, serve: Serve) -> None:
    server = serve(_FastSlowHandler)
    locustfile = write_fast_slow_locustfile(tmp_path, server.url)
    plan_path, metrics = write_plan(tmp_path, duration_s=120.0, weights={"Slow": 1.0})

    process = subprocess.Popen(
        locust_argv(locustfile),
        env=clean_env(PEAKDAY_LOAD_PLAN=str(plan_path)),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while "load_started" not in (metrics.read_text() if metrics.exists() else ""):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        time.sleep(2.5)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, output
    log = parse_metrics_jsonl(metrics.read_text())
    assert log.load_stopped_wall is not None, output
    assert sum(record.requests for record in log.step_seconds) == server.counts["/slow"] > 0


def test_without_a_plan_the_plugin_does_nothing(tmp_path: Path, serve: Serve) -> None:
    server = serve(_FastSlowHandler)
    locustfile = write_fast_slow_locustfile(tmp_path, server.url)

    started = time.monotonic()
    completed = subprocess.run(
        locust_argv(locustfile, ("-u", "3", "-r", "10", "-t", "2s")),
        env=clean_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert time.monotonic() - started < 2 + EXIT_MARGIN_S
    assert "Shape test" not in output
    assert "peakday" not in output
    # Locust's own -u/-t ran all three classes, the zero-weight one included.
    assert all(server.counts[path] > 0 for path in ("/fast", "/slow", "/unused")), output


def test_a_plan_naming_an_unknown_class_fails_before_the_load(tmp_path: Path, serve: Serve) -> None:
    server = serve(_FastSlowHandler)
    locustfile = write_fast_slow_locustfile(tmp_path, server.url)
    plan_path, metrics = write_plan(tmp_path, weights={"Fsat": 1.0})

    run = run_locust(
        locust_argv(locustfile), clean_env(PEAKDAY_LOAD_PLAN=str(plan_path)), metrics, tmp_path
    )

    assert run.returncode == 1
    assert "['Fsat']" in run.output
    assert sum(server.counts.values()) == 0


# --- The storefront locustfile -------------------------------------------------------------------


def test_storefront_locustfile_loads_without_peakday(tmp_path: Path) -> None:
    # A `peakday` package that refuses to import shadows the real one: the locustfile must not
    # need it, nor any PEAKDAY_* variable at import time.
    poisoned = tmp_path / "poison" / "peakday"
    poisoned.mkdir(parents=True)
    (poisoned / "__init__.py").write_text("raise ImportError('the locustfile imported peakday')\n")

    completed = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(STOREFRONT), "--list"],
        env=clean_env(PYTHONPATH=str(poisoned.parent)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    listed = completed.stdout.split()
    assert {"Shopper", "Merchant", "PosTerminal"} <= set(listed)
    assert "StorefrontUser" not in listed


def storefront_env(plan_path: Path, auth_url: str, url: str) -> dict[str, str]:
    return clean_env(
        PEAKDAY_LOAD_PLAN=str(plan_path),
        PEAKDAY_AUTH_URL=auth_url,
        PEAKDAY_CHECKOUT_URL=url,
        PEAKDAY_LABELS_URL=url,
    )


def test_storefront_journeys_send_what_the_services_expect(tmp_path: Path, serve: Serve) -> None:
    server = serve(_StorefrontHandler)
    plan_path, metrics = write_plan(
        tmp_path,
        users=20,
        weights={"Shopper": 6.0, "Merchant": 2.0, "PosTerminal": 2.0},
    )

    run = run_locust(
        locust_argv(STOREFRONT),
        storefront_env(plan_path, server.url, server.url),
        metrics,
        tmp_path,
    )

    assert run.returncode == 0, run.output
    assert_well_formed(run)
    assert server.problems == []
    assert run.failures_by_step() == {step: Counter() for step in run.requests_by_step()}
    by_step = run.requests_by_step()
    assert by_step == {step: server.counts[step] for step in by_step}
    assert set(by_step) == {"login", "checkout", "label", "pos_checkout"}
    # Merchants and tills log in again every few actions, so login traffic outlasts the ramp-up.
    assert by_step["login"] > 20
    assert max(record.t_s for record in run.metrics.step_seconds if record.step == "login") >= 2


@pytest.mark.parametrize(
    ("auth", "expected_kind"),
    [("503", "http_5xx"), ("refused", "connection")],
)
def test_storefront_backs_off_while_login_fails(
    tmp_path: Path, serve: Serve, auth: str, expected_kind: str
) -> None:
    storefront = serve(_StorefrontHandler)
    if auth == "503":
        auth_server = serve(_AuthDownHandler)
        auth_url = auth_server.url
    else:
        closed = serve(_StorefrontHandler)
        auth_url = closed.url
        closed.shutdown()
        closed.server_close()  # nothing listens there any more: connection refused
    users = 10
    plan_path, metrics = write_plan(tmp_path, users=users)

    run = run_locust(
        locust_argv(STOREFRONT),
        storefront_env(plan_path, auth_url, storefront.url),
        metrics,
        tmp_path,
    )

    assert run.returncode == 0, run.output
    by_step = run.requests_by_step()
    assert set(by_step) == {"login"}, "nobody got a token, so nothing else may be called"
    assert run.failures_by_step() == {"login": Counter({expected_kind: by_step["login"]})}
    # Waits of 0.5-1 s, 1-2 s, 2-4 s after each failure allow at most 4 tries each in 4 s; with
    # plain think time (0.2-0.8 s) it would be about 8.
    assert users <= by_step["login"] <= 4 * users
    assert sum(storefront.counts.values()) == 0


def test_storefront_logins_follow_the_route_table_over_the_auth_url(
    tmp_path: Path, serve: Serve
) -> None:
    # A run hands the journeys PEAKDAY_ROUTES: logins go to the auth_login proxy by name, even
    # where PEAKDAY_AUTH_URL says otherwise (here a port nothing listens on).
    server = serve(_StorefrontHandler)
    closed = serve(_StorefrontHandler)
    dead_url = closed.url
    closed.shutdown()
    closed.server_close()
    plan_path, metrics = write_plan(tmp_path, users=6)
    env = {
        **storefront_env(plan_path, dead_url, server.url),
        "PEAKDAY_ROUTES": '{"login": "auth_login"}',
        "PEAKDAY_PROXY_AUTH_LOGIN": server.url.removeprefix("http://"),
    }

    run = run_locust(locust_argv(STOREFRONT), env, metrics, tmp_path)

    assert run.returncode == 0, run.output
    assert run.failures_by_step() == {step: Counter() for step in run.requests_by_step()}
    assert run.requests_by_step()["login"] == server.counts["login"] > 0
