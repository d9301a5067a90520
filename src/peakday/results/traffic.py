"""What each Toxiproxy proxy carried, per second, and whether each fault reached any traffic.

`Traffic` is measured (bytes through each proxy, sampled from Toxiproxy's /metrics); `FaultReach`
is scoring's judgement of it (scoring/reach.py), re-made whenever a result is re-scored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# yes: the fault's target carried traffic before it or during it; no: it carried none, so the
# fault changed nothing a journey could see; not-measured: no figures to tell (a Toxiproxy
# without -proxy-metrics); not-judged: the fault was never applied.
Reach = Literal["yes", "no", "not-measured", "not-judged"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TrafficSecond(_Model):
    """Bytes one proxy received in [t_s, t_s + 1): from clients (`upstream_bytes`) and from the
    service behind it (`downstream_bytes`), spread evenly over the seconds between two samples.
    Toxiproxy counts a connection's bytes when it closes, so `connections` (the most seen open
    to the proxy in that second; None where they cannot be seen) shows a held connection."""

    t_s: int
    upstream_bytes: float
    downstream_bytes: float
    connections: int | None = None


class ProxyTraffic(_Model):
    proxy: str
    upstream_bytes: float  # over the whole load
    downstream_bytes: float
    max_connections: int | None = None  # None: connections not visible from this machine
    seconds: tuple[TrafficSecond, ...] = ()


class Traffic(_Model):
    """Per-proxy traffic of a run; `measured` false (with `detail`) when Toxiproxy could not
    say, e.g. a server started without -proxy-metrics."""

    measured: bool
    detail: str = ""
    proxies: tuple[ProxyTraffic, ...] = ()

    def proxy(self, name: str) -> ProxyTraffic | None:
        return next((p for p in self.proxies if p.proxy == name), None)


class FaultReach(_Model):
    """Whether one fault reached traffic: its target's traffic before it and during it."""

    index: int
    fault: str  # the fault's label
    target: str  # "proxy auth_login" or "service checkout"
    reach: Reach
    before: float | None = None  # bytes (proxy) or requests (service) before the fault
    during: float | None = None  # ... during its window (None for a `down` proxy: not judged)
    unit: Literal["bytes", "requests"] = "bytes"
    # proxy faults: the most connections seen open to the proxy before / during the fault
    connections_before: int | None = None
    connections_during: int | None = None
    detail: str = ""
