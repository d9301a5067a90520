"""One polling loop that owns timeout and interval; readiness checks are tiny functions."""

from __future__ import annotations

import time
from collections.abc import Callable

from peakday.http_connection import get_once


def poll_until(
    check: Callable[[], bool],
    *,
    timeout_s: float,
    interval_s: float = 0.05,
    still_worth_waiting: Callable[[], bool] = lambda: True,
) -> bool:
    """Call `check` until it returns True (True), the timeout passes or waiting is futile (False).

    Exceptions from `check` count as "not yet": a service that refuses connections is starting.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if check():
                return True
        except Exception:
            pass
        if time.monotonic() >= deadline or not still_worth_waiting():
            return False
        time.sleep(interval_s)


def http_ok(url: str, timeout_s: float = 0.5) -> Callable[[], bool]:
    """A check that GET `url` answers 200 (redirects not followed), each on a new connection."""
    # The standard library's http.client: importing requests (or httpx) cost every run about
    # 0.085 CPU s, for a few readiness checks.

    def check() -> bool:
        return get_once(url, timeout_s).status == 200

    return check


def tail(path: str, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:]).rstrip() or "(log is empty)"
    except OSError:
        return "(no log written)"
