"""Per-proxy traffic beside the fault windows, and whether each fault reached any, as report
rows (pure). Results written before traffic was measured (schema < 3) have none to show."""

from __future__ import annotations

from dataclasses import dataclass

from peakday.results.model import Result

# FaultReach.reach -> the verdict colour it is shown in.
REACH_CLASS = {"yes": "pass", "no": "fail", "not-measured": "inconclusive", "not-judged": ""}
REACH_TEXT = {
    "yes": "reached traffic",
    "no": "reached NO traffic",
    "not-measured": "traffic not measured",
    "not-judged": "not applied",
}


def format_bytes(amount: float | None) -> str:
    """1234 -> '1.2 kB'; decimal units, as network figures usually are."""
    if amount is None:
        return "-"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if amount >= size:
            return f"{amount / size:.1f} {unit}"
    return f"{amount:.0f} B"


def format_bytes_tick(value: float) -> str:
    return format_bytes(value) + "/s" if value else "0"


@dataclass(frozen=True)
class ProxyTrafficView:
    proxy: str
    total_bytes: float
    peak_bytes_per_s: float
    points: tuple[tuple[float, float | None], ...]  # (second's middle, bytes/s both directions)
    faults: tuple[str, ...]  # labels of the faults on this proxy
    max_connections: int | None = None  # most seen open at once; None: not visible


@dataclass(frozen=True)
class ReachRow:
    fault: str
    target: str
    reach: str
    text: str  # reach in words
    css: str
    before: str
    during: str
    detail: str


@dataclass(frozen=True)
class TrafficView:
    measured: bool
    detail: str
    proxies: tuple[ProxyTrafficView, ...]
    reach: tuple[ReachRow, ...]

    @property
    def unreached(self) -> tuple[ReachRow, ...]:
        return tuple(r for r in self.reach if r.reach in ("no", "not-measured"))


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return format_bytes(value) if unit == "bytes" else f"{value:,.0f} requests"


def traffic_view(result: Result) -> TrafficView | None:
    traffic = result.traffic
    if traffic is None:
        return None
    proxies = []
    for proxy in traffic.proxies:
        points = tuple((s.t_s + 0.5, s.upstream_bytes + s.downstream_bytes) for s in proxy.seconds)
        proxies.append(
            ProxyTrafficView(
                proxy=proxy.proxy,
                total_bytes=proxy.upstream_bytes + proxy.downstream_bytes,
                peak_bytes_per_s=max((v for _, v in points if v is not None), default=0.0),
                points=points,
                faults=tuple(f.label for f in result.faults if f.proxy == proxy.proxy),
                max_connections=proxy.max_connections,
            )
        )
    reach = tuple(
        ReachRow(
            fault=r.fault,
            target=r.target,
            reach=r.reach,
            text=REACH_TEXT.get(r.reach, r.reach),
            css=REACH_CLASS.get(r.reach, ""),
            before=_amount(r.before, r.unit),
            during=_amount(r.during, r.unit) if r.during is not None else "-",
            detail=r.detail,
        )
        for r in result.fault_reach
    )
    return TrafficView(traffic.measured, traffic.detail, tuple(proxies), reach)
