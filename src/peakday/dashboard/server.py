"""Serves the dashboard: the page, a server-sent-events stream of snapshots, and the stop buttons.

It runs in threads of the orchestrator's process, outside the fault loop; the snapshots (tailing
the run folder, at most every `poll_s` and at least once a second) are built by a child process
(dashboard.worker) during a run, or by a thread for a replay. Every viewer gets the same bytes,
so twenty open pages cost twenty socket writes, not twenty snapshots. A press is handed to the
run through `ManualStops`, which the run's loop takes.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from peakday.results.folder import REPORT_HTML, RunFolder
from peakday.scoring.manual import ManualStop, ManualStops

from .control import (
    TOKEN_HEADER,
    Access,
    Reply,
    check_press,
    check_view,
    is_loopback,
    parse_press,
    press,
    who_pressed,
)
from .page import render_page
from .reader import FolderReader
from .state import SnapshotBuilder

log = logging.getLogger(__name__)

KEEPALIVE_S = 10.0


class SnapshotHub:
    """The latest snapshot (as JSON) and a condition viewers wait on for a newer one."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._seq = 0
        self._json = ""
        self.closed = False

    def publish(self, text: str) -> None:
        with self._condition:
            self._seq += 1
            self._json = text
            self._condition.notify_all()

    def latest(self) -> tuple[int, str]:
        with self._condition:
            return self._seq, self._json

    def wait_newer(self, seen: int, timeout_s: float) -> tuple[int, str | None]:
        with self._condition:
            self._condition.wait_for(lambda: self._seq > seen or self.closed, timeout_s)
            if self._seq > seen:
                return self._seq, self._json
            return seen, None

    def close(self) -> None:
        with self._condition:
            self.closed = True
            self._condition.notify_all()


class DashboardServer:
    def __init__(
        self,
        folder: RunFolder,
        host: str,
        port: int,
        token: str,
        stops: ManualStops | None,
        replay: bool = False,
        clock: Callable[[], float] = time.time,
        poll_s: float = 0.2,
        builder_process: bool = False,
    ) -> None:
        """`builder_process`: build the live snapshots in a child process (dashboard.worker),
        as `peakday run --dashboard` does, rather than in a thread of this one."""
        self.folder = folder
        self.access = Access(token=token, loopback=is_loopback(host))
        self.stops = stops
        self.replay = replay
        self._clock = clock
        self._poll_s = poll_s
        self._reader = FolderReader(folder)
        self._builder = SnapshotBuilder()
        self._reader_lock = threading.Lock()
        self.hub = SnapshotHub()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._threads: list[threading.Thread] = []
        self._builder_process = builder_process
        self._worker: subprocess.Popen[str] | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/?token={self.access.token}"

    def start(self) -> None:
        publish = self._publish
        if self._builder_process:
            self._worker = subprocess.Popen(
                [sys.executable, "-m", "peakday.dashboard.worker", str(self.folder.path),
                 str(os.getpid())],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                start_new_session=True,  # the terminal's Ctrl-C reaches only the orchestrator
            )  # fmt: skip
            publish = self._relay
        for name, target in (("serve", self._httpd.serve_forever), ("publish", publish)):
            thread = threading.Thread(target=target, name=f"peakday-dashboard-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        if self._worker is not None:
            self._stop_worker(self._worker)
        self.hub.close()
        self._httpd.shutdown()
        self._httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def snapshot_json(self, until_s: float | None = None) -> str:
        with self._reader_lock:
            self._reader.poll()
            snapshot = self._builder.build(
                self._reader.records, self._clock(), self._reader.final_result(), until_s
            )
        return snapshot.model_dump_json()

    @staticmethod
    def _stop_worker(worker: subprocess.Popen[str]) -> None:
        try:
            if worker.stdin is not None:
                worker.stdin.write("stop\n")
                worker.stdin.close()
            worker.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            worker.kill()
            worker.wait(timeout=5)

    def _relay(self) -> None:
        """Publishes each snapshot line the worker process writes."""
        assert self._worker is not None and self._worker.stdout is not None
        for line in self._worker.stdout:
            if line.strip():
                self.hub.publish(line.rstrip("\n"))
            if self._stopping.is_set():
                return

    def _publish(self) -> None:
        last_wall = 0.0
        published_final = False
        pause_s = self._poll_s
        while not self._stopping.is_set():
            try:
                with self._reader_lock:
                    changed = self._reader.poll()
                    final = self._reader.final_result() is not None
                now = self._clock()
                due = now - last_wall >= 1.0 and not published_final
                if changed or due or (final and not published_final):
                    started = time.perf_counter()
                    self.hub.publish(self.snapshot_json())
                    last_wall, published_final = now, final
                    # never more than about half a core, whatever a snapshot costs
                    pause_s = max(self._poll_s, time.perf_counter() - started)
            except Exception:  # a viewer's page must never take the run down
                log.exception("the dashboard could not build its snapshot")
            self._stopping.wait(pause_s)


def _handler_for(dashboard: DashboardServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "peakday-dashboard"

        def log_message(self, format: str, *args: object) -> None:
            log.debug("dashboard: " + format, *args)

        def _reply(self, reply: Reply) -> None:
            self._send(reply.status, "application/json", json.dumps(reply.body).encode())

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Frame-Options", "DENY")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            token = query.get("token", [None])[0] or self.headers.get(TOKEN_HEADER)
            refused = check_view(self.headers.get("Host"), token, dashboard.access)
            if refused is not None:
                self._reply(refused)
                return
            if url.path == "/":
                name = dashboard.folder.path.name
                page = render_page(name, dashboard.replay)
                self._send(HTTPStatus.OK, "text/html; charset=utf-8", page.encode())
            elif url.path == "/state":
                at = query.get("at", [""])[0]
                try:
                    until_s = float(at) if at else None
                except ValueError:
                    self._reply(Reply(400, {"error": f"at={at!r} is not a number of seconds."}))
                    return
                body = dashboard.snapshot_json(until_s).encode()
                self._send(HTTPStatus.OK, "application/json", body)
            elif url.path == "/events":
                self._stream()
            elif url.path == "/report":
                report = dashboard.folder.report(REPORT_HTML)
                if report.is_file():
                    self._send(HTTPStatus.OK, "text/html; charset=utf-8", report.read_bytes())
                else:
                    self._reply(Reply(404, {"error": "The report is written when the run ends."}))
            else:
                self._reply(Reply(404, {"error": f"No page {url.path!r}."}))

        def _stream(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seen, text = dashboard.hub.latest()
            try:
                self.wfile.write(b"retry: 1000\n\n")
                if text:
                    self.wfile.write(f"data: {text}\n\n".encode())
                self.wfile.flush()
                while not dashboard.hub.closed:
                    seen, newer = dashboard.hub.wait_newer(seen, KEEPALIVE_S)
                    chunk = f"data: {newer}\n\n" if newer is not None else ": keepalive\n\n"
                    self.wfile.write(chunk.encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                return  # the viewer went away

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/stop":
                self._reply(Reply(404, {"error": "Only /stop takes a POST."}))
                return
            refused = check_press(
                self.headers.get("Host"),
                self.headers.get("Origin"),
                self.headers.get(TOKEN_HEADER),
                dashboard.access,
            )
            if refused is None and (dashboard.stops is None or dashboard.replay):
                refused = Reply(409, {"accepted": False, "error": "This run cannot be stopped."})
            if refused is not None:
                self._reply(refused)
                return
            assert dashboard.stops is not None
            length = min(int(self.headers.get("Content-Length") or 0), 4096)
            parsed = parse_press(self.rfile.read(length))
            if isinstance(parsed, Reply):
                self._reply(parsed)
                return
            action, name = parsed
            by = who_pressed(name, self.client_address[0], self.headers.get("User-Agent"))
            self._reply(press(dashboard.stops, ManualStop(action, by, time.time())))

    return Handler
