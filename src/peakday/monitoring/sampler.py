"""Reads the server-side series and alert states while a run goes, into prometheus.jsonl.

Second `t` of the load (requests started in [t, t + 1)) is read at its end, `t0 + t + 1`, once
`lag_s` has passed so the scrape that covers it has landed; each series is one instant query at
that time, so the series does not depend on when the thread got to it. Alert states are read
every interval. Every record is appended as it is read; nothing raises into the run.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from peakday.monitoring.api import PrometheusApi

log = logging.getLogger(__name__)

# A 1 s scrape plus a 1 s rule evaluation: a second is read once both can have happened.
READ_LAG_S = 2.0
# Turns of the poller a second may take to be written once its lag has passed: the turn that
# reads it, and three more for turns a busy machine or a slow query made late.
COVER_TURNS = 4


class ServerSampler:
    def __init__(
        self,
        api: PrometheusApi,
        path: Path,
        series: Mapping[str, str],
        duration_s: float,
        read_alerts: bool,
        clock: Callable[[], float] = time.time,
        lag_s: float = READ_LAG_S,
        interval_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api = api
        self._path = path
        self._series = dict(series)
        self._duration_s = duration_s
        self._read_alerts = read_alerts
        self._clock = clock
        self._lag_s = lag_s
        self._interval_s = interval_s
        self._sleep = sleep
        self._t0: float | None = None
        self._next_s = 0
        self._holds_read = False
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="peakday-prometheus", daemon=True)

    @property
    def needed(self) -> bool:
        return bool(self._series) or self._read_alerts

    @property
    def cover_bound_s(self) -> float:
        """How long after a second ends its row may take to be written: the lag, then a few
        turns of the poller. The steady-state check waits at most this for the baseline's
        last second before it calls a server-side series missing."""
        return self._lag_s + COVER_TURNS * self._interval_s

    def begin(self, t0: float) -> None:
        """Start reading, `t0` being the wall time the load started."""
        if not self.needed:
            return
        self._t0 = t0
        self._thread.start()

    def stop(self) -> None:
        """Read every second the run had that is still unread, then stop."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10.0)
        t0 = self._t0
        if t0 is None:
            return
        ended_s = min(self._duration_s, self._clock() - t0)
        wait_s = t0 + ended_s + self._lag_s - self._clock()
        if wait_s > 0:
            self._sleep(min(wait_s, self._lag_s))
        self._read_settled(int(ended_s))
        self._read_alert_states()

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval_s):
            t0 = self._t0
            if t0 is None:
                continue
            settled_s = int(min(self._duration_s, self._clock() - self._lag_s - t0))
            self._read_settled(settled_s)
            self._read_alert_states()

    def _read_settled(self, end_s: int) -> None:
        """Read seconds next_s .. end_s - 1 (each second's end at or before t0 + end_s)."""
        t0 = self._t0
        if t0 is None:
            return
        with self._lock:
            while self._next_s < end_s:
                t = self._next_s
                for name, query in self._series.items():
                    record: dict[str, Any] = {"kind": "sample", "t_s": t, "series": name}
                    try:
                        record["value"] = self._api.value(query, at=t0 + t + 1)
                    except Exception as exc:  # one missing second, never the run
                        record |= {"value": None, "error": f"{type(exc).__name__}: {exc}"}
                    self._append(record)
                self._next_s += 1

    def _read_alert_states(self) -> None:
        if not self._read_alerts:
            return
        if not self._holds_read:
            try:
                holds = self._api.alert_holds()
            except Exception as exc:
                log.debug("reading alerting rules failed: %s", exc)
            else:
                self._holds_read = True
                with self._lock:
                    self._append({"kind": "rules", "for_s": holds})
        record: dict[str, Any] = {"kind": "alerts", "wall": self._clock()}
        try:
            states = self._api.alerts()
        except Exception as exc:
            log.debug("reading alerts failed: %s", exc)
            record["error"] = f"{type(exc).__name__}: {exc}"
        else:
            record["alerts"] = [
                {"alert": s.alert, "state": s.state, "active_at": s.active_at} for s in states
            ]
        with self._lock:
            self._append(record)

    def _append(self, record: Mapping[str, Any]) -> None:
        with self._path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
