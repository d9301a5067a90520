"""Headless Debian Chromium driven over the Chrome DevTools Protocol (a websocket), no downloads.

Used by the dashboard's browser test (tests/integration/test_dashboard_browser.py) and by
bench/screenshot_dashboard.py. Needs the `chromium` package and websocket-client.

    with Browser.start() as browser:
        browser.open("http://127.0.0.1:8089/?token=...")
        browser.evaluate("document.getElementById('phase').textContent")
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import websocket  # websocket-client
from screenshot_report import find_chromium

_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class Browser:
    def __init__(self, process: subprocess.Popen[str], profile: tempfile.TemporaryDirectory[str]):
        self._process = process
        self._profile = profile
        self._ws: websocket.WebSocket | None = None
        self._next_id = 0

    @classmethod
    def start(cls, width: int = 1400, height: int = 1800, timeout_s: float = 60.0) -> Browser:
        chromium = find_chromium()
        if chromium is None:
            raise RuntimeError("Chromium is not installed (apt-get install chromium).")
        profile = tempfile.TemporaryDirectory(prefix="peakday-cdp-")
        process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--hide-scrollbars", "--remote-debugging-port=0",
             f"--user-data-dir={profile.name}", f"--window-size={width},{height}",
             "about:blank"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
            start_new_session=True,  # its own group: close() stops its helper processes too
        )  # fmt: skip
        browser = cls(process, profile)
        try:
            browser._connect(timeout_s)
        except BaseException:
            browser.close()
            raise
        return browser

    def _connect(self, timeout_s: float) -> None:
        assert self._process.stderr is not None
        deadline = time.monotonic() + timeout_s
        endpoint = None
        while endpoint is None and time.monotonic() < deadline:
            line = self._process.stderr.readline()
            if not line and self._process.poll() is not None:
                raise RuntimeError(f"Chromium exited {self._process.returncode} at start.")
            match = _LISTENING.search(line)
            endpoint = match.group(1) if match else None
        if endpoint is None:
            raise RuntimeError("Chromium did not print its DevTools address.")
        # keep reading its stderr, or Chromium blocks once the pipe is full
        threading.Thread(target=self._process.stderr.read, daemon=True).start()
        port = endpoint.split("//", 1)[1].split("/", 1)[0]
        with urllib.request.urlopen(f"http://{port}/json/list", timeout=10) as response:
            targets = json.load(response)
        page = next(t for t in targets if t.get("type") == "page")
        self._ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        assert self._ws is not None
        self._next_id += 1
        ident = self._next_id
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        reply = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression!r} threw: {reply['exceptionDetails']}")
        return reply.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout_s: float, interval_s: float = 0.05) -> Any:
        """Polls until the expression is truthy; returns its value."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                value = self.evaluate(expression)
            except RuntimeError:
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression!r} stayed falsy for {timeout_s:g} s.")
            time.sleep(interval_s)

    def screenshot(self, png: Path) -> None:
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        png.parent.mkdir(parents=True, exist_ok=True)
        png.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        # Chromium's helpers (crashpad, utility processes) can outlive the browser for a moment
        # and still write into the profile: stop the group, then remove the profile, retrying
        # while the last writes land ("Directory not empty" on a busy machine).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        for _ in range(20):
            try:
                self._profile.cleanup()
                return
            except OSError:
                time.sleep(0.1)
        shutil.rmtree(self._profile.name, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
