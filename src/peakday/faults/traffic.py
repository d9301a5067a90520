"""Traffic through each Toxiproxy proxy, read each second: bytes from the server's Prometheus
/metrics, and the connections open to the proxy's listen port as this machine's kernel sees them.

toxiproxy-server started with `-proxy-metrics` serves, per proxy and direction,
`toxiproxy_proxy_received_bytes_total` and `toxiproxy_proxy_sent_bytes_total`; a proxy that has
carried nothing yet is absent (its counters are 0). Without the flag /metrics answers 404, and
the run records that traffic was not measured. Toxiproxy v2.12.0 adds a connection's bytes only
when that connection closes, so a pooled connection held for the whole run (an app's Redis
client, Locust's keep-alive) shows its bytes only at the end; the established connections to the
listen port (faults.connections: netlink sock_diag, else /proc/net/tcp) show it is in use
meanwhile.

The seam is `TrafficProbe`: `ToxiproxyMetrics` is the real one, unit tests pass a fake.
`TrafficSampler` writes one traffic.jsonl record per reading as the run goes;
`traffic_from_records` turns those records into the result's per-second `Traffic` (pure).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

from peakday.faults.connections import established_connections, local_listen_ports
from peakday.http_connection import KeptAliveConnection
from peakday.results.traffic import ProxyTraffic, Traffic, TrafficSecond

log = logging.getLogger(__name__)

SAMPLE_INTERVAL_S = 1.0
# What every toxiproxy-server peakday starts is given, so its proxies' traffic can be measured.
TOXIPROXY_METRICS_ARGS = ("-proxy-metrics",)
RECEIVED = "toxiproxy_proxy_received_bytes_total"
SENT = "toxiproxy_proxy_sent_bytes_total"
# Counter keys of one proxy in a traffic.jsonl record: <direction>_<received|sent>.
COUNTERS = ("upstream_received", "upstream_sent", "downstream_received", "downstream_sent")
NOT_MEASURED_HINT = "Hint: start toxiproxy-server with -proxy-metrics (peakday's own servers are)."

_SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)")
_LABEL = re.compile(r'(?P<key>[A-Za-z_][A-Za-z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')


class MetricsUnavailable(Exception):
    """The server has no proxy metrics (started without -proxy-metrics): nothing to sample."""


class MetricsAnswerError(Exception):
    """/metrics answered an error status (other than 404): this reading is lost, not the next."""


def _unescape(value: str) -> str:
    return value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def parse_proxy_metrics(text: str) -> dict[str, dict[str, float]]:
    """Toxiproxy's Prometheus text -> {proxy: {"upstream_received": bytes, ...}} (pure).

    Only the two byte counters are read; every other metric, comment and malformed line is
    skipped. Counters of one proxy and key that appear twice are added.
    """
    counters: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None or match["name"] not in (RECEIVED, SENT):
            continue
        labels = {m["key"]: _unescape(m["value"]) for m in _LABEL.finditer(match["labels"] or "")}
        proxy, direction = labels.get("proxy"), labels.get("direction")
        if proxy is None or direction not in ("upstream", "downstream"):
            continue
        try:
            value = float(match["value"])
        except ValueError:
            continue
        if not math.isfinite(value):
            continue
        key = f"{direction}_{'received' if match['name'] == RECEIVED else 'sent'}"
        proxy_counters = counters.setdefault(proxy, dict.fromkeys(COUNTERS, 0.0))
        proxy_counters[key] += value
    return counters


class TrafficProbe(Protocol):
    def read(self) -> Mapping[str, Mapping[str, float]]:
        """Per proxy: cumulative byte counters ({} before any traffic) and, where it can be
        seen, `connections` (open now). Raises MetricsUnavailable when the server cannot say,
        any other error when it did not answer."""
        ...


class ToxiproxyMetrics:
    """TrafficProbe over HTTP (GET http://<api>/metrics on one kept-alive connection, with a
    timeout) and the kernel's socket table for the proxies listening on this machine
    (`listen`: proxy -> host:port). A failed reading raises (OSError, http.client's errors or
    MetricsAnswerError); the next one reconnects."""

    def __init__(
        self, api_address: str, listen: Mapping[str, str] | None = None, timeout_s: float = 2.0
    ) -> None:
        self._url = f"http://{api_address}/metrics"
        self._http = KeptAliveConnection(api_address, timeout_s)
        self._ports = local_listen_ports(listen or {})

    def close(self) -> None:
        self._http.close()

    def read(self) -> Mapping[str, Mapping[str, float]]:
        response = self._http.request("GET", "/metrics")
        if response.status == 404:
            raise MetricsUnavailable(
                f"Toxiproxy answered 404 at {self._url!r}: it was started without -proxy-metrics, "
                f"so traffic through its proxies was not measured. {NOT_MEASURED_HINT}"
            )
        if not response.ok:
            raise MetricsAnswerError(
                f"Toxiproxy answered {response.status} at {self._url!r}: "
                f"{response.text.strip()[:200]!r}."
            )
        counters = parse_proxy_metrics(response.text)
        connections = established_connections(self._ports.values()) if self._ports else None
        if connections is None:
            return counters
        return {
            **counters,
            **{
                proxy: {**counters.get(proxy, {}), "connections": float(connections[port])}
                for proxy, port in self._ports.items()
            },
        }


def toxiproxy_traffic_probe(api_address: str, listen: Mapping[str, str]) -> TrafficProbe:
    return ToxiproxyMetrics(api_address, listen)


class TrafficSampler:
    """Reads `probe` once at start, then every `interval_s` on a daemon thread, and once more
    at stop; one traffic.jsonl line per reading. Never raises into the run."""

    def __init__(
        self,
        probe: TrafficProbe,
        path: Path,
        proxies: Sequence[str],
        interval_s: float = SAMPLE_INTERVAL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._probe = probe
        self._path = path
        self._proxies = tuple(proxies)
        self._interval_s = interval_s
        self._clock = clock
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._unavailable = False
        self._thread = threading.Thread(target=self._loop, name="peakday-traffic", daemon=True)

    def start(self) -> None:
        self._sample()  # the counters before the load, so the first second has a base
        if not self._unavailable:
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        if not self._unavailable:
            self._sample()  # the last in-flight bytes, after the load stopped

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval_s):
            self._sample()
            if self._unavailable:
                return

    def _sample(self) -> None:
        with self._lock:
            record: dict[str, Any]
            try:
                counters = self._probe.read()
            except MetricsUnavailable as exc:
                self._unavailable = True
                record = {"wall": self._clock(), "measured": False, "detail": str(exc)}
            except Exception as exc:  # a transient error costs one reading, not the run
                log.debug("traffic reading failed: %s", exc)
                record = {"wall": self._clock(), "error": f"{type(exc).__name__}: {exc}"}
            else:
                zero = dict.fromkeys(COUNTERS, 0.0)
                record = {
                    "wall": self._clock(),
                    "measured": True,
                    "proxies": {name: {**zero, **counters.get(name, {})} for name in self._proxies},
                }
            with self._path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record) + "\n")


@dataclass
class _Accumulator:
    upstream: dict[int, float] = field(default_factory=dict)
    downstream: dict[int, float] = field(default_factory=dict)
    connections: dict[int, int] = field(default_factory=dict)  # most seen open in a second

    def spread(self, into: dict[int, float], amount: float, start: float, end: float) -> None:
        """Add `amount` over [start, end) in load time, in proportion to each second's share."""
        if amount <= 0:
            return
        if end <= start:
            into[math.floor(start)] = into.get(math.floor(start), 0.0) + amount
            return
        second = math.floor(start)
        while second < end:
            overlap = min(end, second + 1) - max(start, second)
            if overlap > 0:
                into[second] = into.get(second, 0.0) + amount * overlap / (end - start)
            second += 1


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


# One proxy's counters in one reading: upstream_received, downstream_received, connections.
_Counters = tuple[float | None, float | None, float | None]


def _counters(proxies: Mapping[str, Any], name: str) -> _Counters:
    counters = proxies.get(name)
    if not isinstance(counters, Mapping):
        return (None, None, None)
    return (
        _number(counters.get("upstream_received")),
        _number(counters.get("downstream_received")),
        _number(counters.get("connections")),
    )


def traffic_from_records(
    records: Iterable[Mapping[str, Any]],
    proxies: Sequence[str],
    load_started_wall: float | None,
    load_end_s: float,
) -> Traffic:
    """The result's per-proxy traffic from traffic.jsonl (pure).

    Bytes between two readings are spread evenly over the seconds between them, in load time,
    clipped to [0, load_end_s). No usable reading, or a server without metrics, gives
    `measured: false` with the reason.
    """
    # Each reading kept as the numbers used (a long run has one a second: not its records).
    names = list(dict.fromkeys(proxies))
    readings: list[tuple[float, tuple[_Counters, ...]]] = []
    unavailable = ""
    for record in records:
        wall = _number(record.get("wall"))
        if wall is None:
            continue
        if record.get("measured") is False:
            unavailable = str(record.get("detail") or "Toxiproxy had no proxy metrics.")
        elif record.get("measured") is True and isinstance(record.get("proxies"), dict):
            readings.append((wall, tuple(_counters(record["proxies"], name) for name in names)))
    if unavailable and not readings:
        return Traffic(measured=False, detail=unavailable)
    if load_started_wall is None:
        return Traffic(measured=False, detail="The load never started, so no traffic to measure.")
    if len(readings) < 2:
        return Traffic(
            measured=False,
            detail=(
                "Toxiproxy's traffic counters were read fewer than twice during the run "
                "(no traffic.jsonl, or the server did not answer)."
            ),
        )
    readings.sort(key=lambda reading: reading[0])
    per_proxy = {name: _Accumulator() for name in names}
    accumulators = list(per_proxy.values())  # in the readings' order
    for wall, counters in readings:
        second = math.floor(wall - load_started_wall)
        for acc, (_, _, open_now) in zip(accumulators, counters, strict=True):
            if open_now is not None:
                acc.connections[second] = max(acc.connections.get(second, 0), int(open_now))
    for (wall_a, before), (wall_b, after) in pairwise(readings):
        start, end = wall_a - load_started_wall, wall_b - load_started_wall
        for acc, old, new in zip(accumulators, before, after, strict=True):
            for into, a, b in ((acc.upstream, old[0], new[0]), (acc.downstream, old[1], new[1])):
                if a is None or b is None:
                    continue
                # a counter that went back (a recreated proxy) began again from 0
                acc.spread(into, b - a if b >= a else b, start, end)
    return Traffic(
        measured=True,
        detail=unavailable,
        proxies=tuple(
            _proxy_traffic(name, acc, load_end_s) for name, acc in sorted(per_proxy.items())
        ),
    )


def _proxy_traffic(name: str, acc: _Accumulator, load_end_s: float) -> ProxyTraffic:
    last = math.ceil(load_end_s)
    counted = bool(acc.connections)  # connections visible on this machine at all
    seconds = tuple(
        TrafficSecond(
            t_s=t,
            upstream_bytes=round(acc.upstream.get(t, 0.0), 3),
            downstream_bytes=round(acc.downstream.get(t, 0.0), 3),
            connections=acc.connections.get(t) if counted else None,
        )
        for t in range(0, last)
    )
    return ProxyTraffic(
        proxy=name,
        upstream_bytes=round(sum(s.upstream_bytes for s in seconds), 3),
        downstream_bytes=round(sum(s.downstream_bytes for s in seconds), 3),
        max_connections=(
            max((s.connections or 0 for s in seconds), default=0) if counted else None
        ),
        seconds=seconds,
    )
