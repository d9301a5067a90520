"""Service faults on the local platform, for real: SIGKILL auth mid-run, then start it again.

The helpers are shared with tests/docker/test_docker_runs.py, which runs the same experiment
with auth in a container.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from integration.peakday_process import load_result, start_run
from peakday.results.model import Result, TimelineRow

pytestmark = [pytest.mark.integration, pytest.mark.slow]


KILL_AUTH = """
name: kill-auth
platform: {platform}
load:
  users: 10
  spawn_rate: 10
  duration: 26s
  warmup: 3s
  journeys: {{shopper: 4, merchant: 3, pos: 3}}
faults:
  - {{name: auth-killed, at: 8s, duration: 6s, service: auth, action: kill}}
slos:
  - {{name: login-succeeds, request: login, metric: success_rate, objective: ">= 50%", phase: all}}
"""
LOGGING_IN_USERS = 6  # merchants and tills: the journeys that log in again during a run


def rows_between(result: Result, step: str, start_s: float, end_s: float) -> list[TimelineRow]:
    return [r for r in result.timeline if r.name == step and start_s <= r.t_s < end_s]


def failures_between(result: Result, step: str, start_s: float, end_s: float) -> tuple[int, int]:
    rows = rows_between(result, step, start_s, end_s)
    return sum(r.requests for r in rows), sum(r.failures for r in rows)


def failure_kinds(rows: list[TimelineRow]) -> dict[str, int]:
    kinds: Counter[str] = Counter()
    for row in rows:
        kinds.update({kind: n for kind, n in row.failures_by_kind.items() if n})
    return dict(kinds)


def run_kill_auth(platform: str, tmp_path: Path) -> Result:
    experiment = tmp_path / "kill-auth.yaml"
    experiment.write_text(KILL_AUTH.format(platform=platform))
    run_dir = tmp_path / "run"
    run = start_run(["run", str(experiment), "--no-color"], run_dir)
    code, out, err = run.wait(timeout_s=150)
    assert code in (0, 1), out + err
    assert run.survivors() == []
    return load_result(run_dir)


def assert_login_fails_while_auth_is_down_then_recovers(result: Result) -> None:
    (fault,) = result.faults
    assert fault.service == "auth" and fault.action == "kill"
    assert fault.applied_at_s is not None and fault.removed_at_s is not None
    assert abs(fault.applied_at_s - 8.0) < 0.5 and abs(fault.removed_at_s - 14.0) < 0.5
    # Every login that starts while auth is down fails, at once: Toxiproxy accepts the
    # connection, is refused by auth's port and closes it unanswered. Merchants and tills
    # (6 of the 10 users) log in again after a few labels or sales, then back off at most 4 s
    # between failed logins, so each starts at least one in these 5 s (14 to 18 seen).
    window = rows_between(result, "login", 9, 14)
    during, failed = failures_between(result, "login", 9, 14)
    assert during >= LOGGING_IN_USERS and failed == during, (during, failed)
    assert failure_kinds(window) == {"connection": failed}, failure_kinds(window)
    slowest_ms = max(r.max_ms or 0.0 for r in window)
    assert slowest_ms < 1000, f"a login hung {slowest_ms:.0f} ms instead of failing at once"
    # A few seconds to boot, then every login succeeds again.
    after, failed_after = failures_between(result, "login", 19, 25)
    assert after > 0 and failed_after == 0, (after, failed_after)


def test_killing_the_auth_process_fails_logins_until_it_is_restarted(tmp_path: Path) -> None:
    result = run_kill_auth("local", tmp_path)
    assert_login_fails_while_auth_is_down_then_recovers(result)
    pids = json.loads((tmp_path / "run" / "pids.json").read_text())
    assert pids["children"] == []
