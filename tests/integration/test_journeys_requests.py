"""The storefront journeys' per-request bookkeeping, through real Locust against small servers.

What the cheaper per-request path (docs/load.md, "Journeys per-request cost") must keep: every
201 the client was told of is in the confirmations when Locust ends, at the end of the plan and
on SIGTERM; idempotency keys are unique
per request and the same on each retry of it; a cookie a service sets goes back to it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

from integration.test_locust_plugin import (
    STOREFRONT,
    _CountingServer,
    _StorefrontHandler,
    locust_argv,
    run_locust,
    storefront_env,
    write_plan,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class _RecordingHandler(_StorefrontHandler):
    """The storefront stand-in, remembering each 201's id and the keys and cookies it saw."""

    lock = threading.Lock()
    confirmed: ClassVar[dict[str, str]] = {}  # id -> Idempotency-Key, of every 201 sent
    keys_seen: ClassVar[Counter[str]] = Counter()
    cookies_seen: ClassVar[Counter[str]] = Counter()
    fail_first_attempt = False

    def _reply(self, status: int, body: object) -> None:
        key = self.headers.get("Idempotency-Key")
        with self.lock:
            self.cookies_seen[self.headers.get("Cookie") or ""] += 1
            if key is not None:
                self.keys_seen[key] += 1
                if self.fail_first_attempt and self.keys_seen[key] == 1:
                    status, body = 503, {"detail": "try again"}
            if status == 201 and isinstance(body, dict):
                record_id = str(body.get("order_id") or body.get("label_id"))
                self.confirmed[record_id] = key or ""
        super()._reply(status, body)

    def send_response(self, code: int, message: str | None = None) -> None:
        BaseHTTPRequestHandler.send_response(self, code, message)
        if self.path == "/login":
            self.send_header("Set-Cookie", "session=s1; Path=/")

    @classmethod
    def reset(cls, fail_first_attempt: bool = False) -> None:
        cls.confirmed.clear()
        cls.keys_seen.clear()
        cls.cookies_seen.clear()
        cls.fail_first_attempt = fail_first_attempt


@pytest.fixture
def server() -> Iterator[_CountingServer]:
    _RecordingHandler.reset()
    server = _CountingServer(_RecordingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _confirmations(folder: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


@pytest.mark.parametrize("stop", ["end_of_plan", "sigterm"])
def test_every_confirmation_is_written_when_locust_ends(
    tmp_path: Path, server: _CountingServer, stop: str
) -> None:
    plan_path, metrics = write_plan(
        tmp_path, users=10, duration_s=60.0 if stop == "sigterm" else 4.0
    )
    folder = tmp_path / "confirmations"
    env = {
        **storefront_env(plan_path, server.url, server.url),
        "PEAKDAY_CONFIRMATIONS_DIR": str(folder),
    }

    if stop == "end_of_plan":
        run = run_locust(locust_argv(STOREFRONT), env, metrics, tmp_path)
        assert run.returncode == 0, run.output
    else:
        process = subprocess.Popen(
            locust_argv(STOREFRONT),
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while len(_RecordingHandler.confirmed) < 20:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
            time.sleep(0.7)
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert process.returncode == 0, output

    lines = _confirmations(folder)
    assert len(lines) >= 20
    assert {str(line["id"]): line["key"] for line in lines} == _RecordingHandler.confirmed
    assert len(lines) == len(_RecordingHandler.confirmed), "each confirmation once"


def test_keys_are_unique_per_request_and_kept_by_its_retries(
    tmp_path: Path, server: _CountingServer
) -> None:
    _RecordingHandler.fail_first_attempt = True
    plan_path, metrics = write_plan(tmp_path, users=6)
    env = {**storefront_env(plan_path, server.url, server.url), "PEAKDAY_CLIENT_RETRIES": "1"}

    run = run_locust(locust_argv(STOREFRONT), env, metrics, tmp_path)

    assert run.returncode == 0, run.output
    assert server.problems == []  # among them: every key is a UUID
    keys = _RecordingHandler.keys_seen
    assert len(keys) > 20
    # Each request's first attempt got a 503 and its one retry the 201, with the same key; a
    # request cut short by the end of the run may not have had its retry.
    assert set(keys.values()) <= {1, 2}
    assert sum(1 for count in keys.values() if count == 1) <= 6
    assert all(uuid.UUID(key).version == 4 for key in keys)
    failures = run.failures_by_step()
    assert sum(sum(kinds.values()) for kinds in failures.values()) == sum(keys.values()) - len(
        _RecordingHandler.confirmed
    )


def test_a_cookie_a_service_sets_goes_back_to_it(tmp_path: Path, server: _CountingServer) -> None:
    plan_path, metrics = write_plan(tmp_path, users=4)

    run = run_locust(
        locust_argv(STOREFRONT),
        storefront_env(plan_path, server.url, server.url),
        metrics,
        tmp_path,
    )

    assert run.returncode == 0, run.output
    cookies = _RecordingHandler.cookies_seen
    # Only each user's first login goes without it.
    assert cookies["session=s1"] > 20
    assert cookies[""] == 4
