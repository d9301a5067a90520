"""The live dashboard of a real smoke run, in headless Debian Chromium (Chrome DevTools Protocol,
bench/cdp.py): the page follows the run, a page without the token cannot stop it, and "end all
faults now" with the token rolls the fault back on the real Toxiproxy; the run is then aborted
by a manual stop and exits 6.

One smoke run serves both tests, in file order: the refused press happens at baseline, the
accepted one under the fault. Without Chromium: skipped on a workstation, failed in CI.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import pytest
import yaml

from integration.peakday_process import REPO, WatchedRun, start_run

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BENCH = REPO / "bench"
URL = re.compile(r"dashboard: (http://\S+)")
PHASE = "document.getElementById('phase').textContent"


def _browser_class() -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        from cdp import Browser
        from screenshot_report import find_chromium
    finally:
        sys.path.remove(str(BENCH))
    if find_chromium() is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") or os.environ.get("PEAKDAY_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"{message}; CI must install it for the dashboard's browser test.")
        pytest.skip(message)
    return Browser


@dataclass
class DashboardRun:
    watched: WatchedRun
    url: str
    lines: list[str] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        path = self.watched.run_dir / "events.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def first_event(self, kind: str) -> dict[str, Any] | None:
        return next((e for e in self.events() if e["kind"] == kind), None)


def _pump(stream: IO[str], lines: list[str], found: queue.Queue[str]) -> None:
    for line in stream:
        lines.append(line)
        match = URL.search(line)
        if match:
            found.put(match.group(1))


@pytest.fixture(scope="module")
def dashboard_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardRun]:
    folder = tmp_path_factory.mktemp("dashboard")
    # the smoke experiment, its fault injected even when a busy machine misses the baseline SLO
    spec = yaml.safe_load((REPO / "experiments" / "smoke.yaml").read_text())
    spec.setdefault("scoring", {})["continue_if_baseline_not_met"] = True
    (folder / "smoke.yaml").write_text(yaml.safe_dump(spec))
    run_dir = folder / "run"
    watched = start_run(["run", str(folder / "smoke.yaml"), "--no-color", "--dashboard"], run_dir)
    lines: list[str] = []
    found: queue.Queue[str] = queue.Queue()
    assert watched.popen.stderr is not None
    threading.Thread(target=_pump, args=(watched.popen.stderr, lines, found), daemon=True).start()
    try:
        url = found.get(timeout=60)
    except queue.Empty:
        watched.popen.kill()
        pytest.fail("peakday run --dashboard printed no dashboard URL:\n" + "".join(lines))
    try:
        yield DashboardRun(watched, url, lines)
    finally:
        if watched.popen.poll() is None:  # a failed test: SIGTERM rolls back and stops all
            watched.popen.terminate()
            try:
                watched.popen.wait(timeout=60)
            except subprocess.TimeoutExpired:
                watched.popen.kill()
                watched.popen.wait(timeout=30)


# Records, in the page, the moment its phase first reads "fault": the page is opened at the
# start of the run and watched throughout, however long the other test takes.
WATCH_FAULT = """
window.faultSeenAt = null;
new MutationObserver(() => {
  if (window.faultSeenAt === null && document.getElementById('phase').textContent
      .startsWith('fault')) { window.faultSeenAt = Date.now() / 1000; }
}).observe(document.getElementById('phase'), {childList: true, characterData: true,
  subtree: true});
true
"""


@pytest.fixture(scope="module")
def watching_page(dashboard_run: DashboardRun) -> Iterator[Any]:
    """A page with the token, open from the start of the run."""
    browser_class = _browser_class()
    with browser_class.start() as browser:
        browser.open(dashboard_run.url)
        browser.wait_for("document.getElementById('phase') !== null", timeout_s=30)
        browser.evaluate(WATCH_FAULT)
        yield browser


def test_a_page_without_the_token_cannot_stop_the_run(
    dashboard_run: DashboardRun, watching_page: Any
) -> None:
    browser_class = _browser_class()
    without_token = dashboard_run.url.split("?", 1)[0]
    with browser_class.start() as browser:
        browser.open(without_token)
        browser.wait_for("document.body.dataset.state === 'running'", timeout_s=40)
        assert browser.evaluate("document.getElementById('end-faults').disabled") is True
        # the button is disabled; a script posting anyway gets 403 and changes nothing
        status = browser.evaluate(
            "fetch('/stop', {method: 'POST', headers: {'Content-Type': 'application/json'},"
            " body: JSON.stringify({action: 'end_faults', who: 'mallory'})}).then(r => r.status)"
        )
        assert status == 403
        wrong = browser.evaluate(
            "fetch('/stop', {method: 'POST', headers: {'Content-Type': 'application/json',"
            " 'X-Peakday-Token': 'guess'}, body: JSON.stringify({action: 'end_run'})})"
            ".then(r => r.status)"
        )
        assert wrong == 403
    assert dashboard_run.first_event("stop_condition_fired") is None
    assert dashboard_run.first_event("faults_skipped") is None


def _toxics(api: str) -> dict[str, list[str]]:
    with urllib.request.urlopen(f"http://{api}/proxies", timeout=5) as response:
        proxies = json.load(response)
    return {name: [t["name"] for t in proxy.get("toxics", [])] for name, proxy in proxies.items()}


def test_end_all_faults_now_rolls_back_and_the_run_is_aborted_by_a_manual_stop(
    dashboard_run: DashboardRun, watching_page: Any
) -> None:
    browser = watching_page
    seen_wall = browser.wait_for("window.faultSeenAt", timeout_s=60)
    applied = dashboard_run.first_event("fault_applied")
    assert applied is not None
    assert seen_wall - applied["wall"] < 2.0, "the page showed the fault late"
    ready = dashboard_run.first_event("platform_ready")
    assert ready is not None
    assert any(_toxics(ready["toxiproxy_api"]).values())  # the fault is really on

    browser.evaluate("document.getElementById('who').value = 'facilitator'")
    browser.evaluate("document.getElementById('end-faults').click()")
    reply = browser.wait_for("document.getElementById('press-result').textContent", timeout_s=10)
    assert reply.startswith("202")
    browser.evaluate("document.getElementById('end-faults').click()")  # a double press
    browser.wait_for(
        "document.getElementById('press-result').textContent.startsWith('200')", timeout_s=10
    )
    deadline = time.monotonic() + 5
    while dashboard_run.first_event("fault_removed") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dashboard_run.first_event("fault_removed") is not None
    assert _toxics(ready["toxiproxy_api"]) == {"auth_login": [], "auth_introspect": []}
    browser.wait_for(f"{PHASE} === 'recovery'", timeout_s=5)
    browser.wait_for("document.body.dataset.state === 'ended'", timeout_s=60)

    code, _, _ = dashboard_run.watched.wait(timeout_s=60)
    result = json.loads((dashboard_run.watched.run_dir / "result.json").read_text())
    assert code == 6, "".join(dashboard_run.lines)
    assert result["outcome"] == "aborted"
    (stop,) = result["stops"]
    assert stop["action"] == "end_faults"
    assert stop["manual_by"].startswith("facilitator (127.0.0.1, ")
    assert stop["manual_at"] is not None
