"""Did each fault reach traffic? A fault on something nothing used proves nothing (pure).

- A proxy fault reached traffic when its proxy received bytes (either direction) or held an
  open connection before it (from the load's start to the fault's start) or during its window.
  Toxiproxy counts a connection's bytes only when it closes, so a pooled connection held all
  run shows as open connections, not bytes, until the end. A `down` proxy refuses connections,
  so it is judged by the time before it alone.
- A service fault (kill, stop, pause, restart, or a behaviour) reached traffic when, before it or
  during its window, the journeys sent requests to the service (the steps the topology says it
  answers) or a proxy in front of it received bytes (on compose, the proxy named after it).
- No traffic figures for a proxy fault (a Toxiproxy without -proxy-metrics) is `not-measured`.

`no` and `not-measured` make the run inconclusive (scoring.evaluate.judge). A result without
traffic data (written before it was measured) gets no judgement here, so re-scoring it keeps its
verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

from peakday.results.model import AppliedFault, TimelineRow
from peakday.results.traffic import FaultReach, Traffic
from peakday.scoring.phases import rows_where
from peakday.topology import Topology, storefront_topology


def _in(t_s: int, start_s: float, end_s: float) -> bool:
    return start_s <= t_s + 0.5 < end_s  # a second belongs to the window holding its middle


def proxy_bytes(traffic: Traffic, proxy: str, start_s: float, end_s: float) -> float | None:
    """Bytes the proxy received (both directions) in [start_s, end_s); None if not measured."""
    if not traffic.measured:
        return None
    measured = traffic.proxy(proxy)
    if measured is None:
        return None
    return sum(
        s.upstream_bytes + s.downstream_bytes
        for s in measured.seconds
        if _in(s.t_s, start_s, end_s)
    )


def proxy_connections(traffic: Traffic, proxy: str, start_s: float, end_s: float) -> int | None:
    """The most connections seen open to the proxy in [start_s, end_s); None if not visible."""
    measured = traffic.proxy(proxy) if traffic.measured else None
    if measured is None or measured.max_connections is None:
        return None
    return max(
        (s.connections or 0 for s in measured.seconds if _in(s.t_s, start_s, end_s)), default=0
    )


def _requests(rows: Sequence[TimelineRow], steps: Sequence[str], start: float, end: float) -> int:
    return sum(r.requests for r in rows_where(rows, steps, lambda t_s: _in(t_s, start, end)))


def _fmt(amount: float | None, unit: str) -> str:
    return "not measured" if amount is None else f"{amount:,.0f} {unit}"


def _proxy_reach(
    fault: AppliedFault, proxy: str, traffic: Traffic, start: float, end: float
) -> FaultReach:
    target = f"proxy {proxy}"
    down = fault.toxic == "down"
    before = proxy_bytes(traffic, proxy, 0.0, start)
    during = None if down else proxy_bytes(traffic, proxy, start, end)
    common = FaultReach(index=fault.index, fault=fault.label, target=target, reach="no")
    if before is None or (not down and during is None):
        why = traffic.detail or f"Toxiproxy reported no counters for {proxy!r}"
        return common.model_copy(
            update={
                "reach": "not-measured",
                "detail": (
                    f"Fault {fault.label!r}: traffic through {target} was not measured, so "
                    f"whether the fault reached anything is unknown ({why.rstrip('.')})."
                ),
            }
        )
    open_before = proxy_connections(traffic, proxy, 0.0, start)
    open_during = None if down else proxy_connections(traffic, proxy, start, end)
    reached = before > 0 or (during or 0) > 0 or (open_before or 0) > 0 or (open_during or 0) > 0
    held = ""
    if open_before is not None:
        held = f"; at most {open_before} connection(s) open before it"
        if not down:
            held += f" and {open_during} during it"
    if down:
        detail = (
            f"{target} received {_fmt(before, 'bytes')} before the fault{held} (a 'down' proxy "
            "refuses connections, so it is judged by the time before it)"
        )
    else:
        detail = (
            f"{target} received {_fmt(before, 'bytes')} before the fault and "
            f"{_fmt(during, 'bytes')} during it{held}"
        )
    if not reached:
        detail = (
            f"Fault {fault.label!r} reached no traffic: {detail}. Hint: check that the app or "
            "locustfile really sends its traffic through this proxy."
        )
    return common.model_copy(
        update={
            "reach": "yes" if reached else "no",
            "before": before,
            "during": during,
            "connections_before": open_before,
            "connections_during": open_during,
            "detail": detail,
        }
    )


def _service_reach(
    fault: AppliedFault,
    service: str,
    rows: Sequence[TimelineRow],
    traffic: Traffic,
    topology: Topology,
    start: float,
    end: float,
) -> FaultReach:
    target = f"service {service}"
    common = FaultReach(
        index=fault.index, fault=fault.label, target=target, reach="no", unit="requests"
    )
    if service in topology.service_names:
        steps = topology.service(service).steps
        proxies = [p.name for p in topology.proxies if p.upstream == service]
    elif proxy_bytes(traffic, service, 0.0, end) is not None:
        # The compose platform names each proxy after the service it intercepts.
        steps, proxies = (), [service]
    else:
        return common.model_copy(
            update={
                "reach": "not-measured",
                "detail": f"Fault {fault.label!r}: no known steps or proxies lead to {target}.",
            }
        )
    before = float(_requests(rows, steps, 0.0, start))
    during = float(_requests(rows, steps, start, end))
    through = sum(
        (proxy_bytes(traffic, p, a, b) or 0.0) + (proxy_connections(traffic, p, a, b) or 0)
        for p in proxies
        for a, b in ((0.0, start), (start, end))
    )
    reached = before > 0 or during > 0 or through > 0
    detail = (
        f"{target} was sent {before:,.0f} requests ({', '.join(steps) or 'no steps'}) before the "
        f"fault and {during:,.0f} during it"
    )
    if proxies:
        carried = "some" if through else "no"
        detail += f"; its proxies ({', '.join(proxies)}) carried {carried} traffic then"
    if not reached:
        detail = f"Fault {fault.label!r} reached no traffic: {detail}."
    return common.model_copy(
        update={
            "reach": "yes" if reached else "no",
            "before": before,
            "during": during,
            "detail": detail,
        }
    )


def fault_reach(
    faults: Sequence[AppliedFault],
    timeline: Sequence[TimelineRow],
    traffic: Traffic | None,
    load_end_s: float,
    topology: Topology | None = None,
) -> tuple[FaultReach, ...]:
    """Each fault's reach; () for a result without traffic data (an older result)."""
    if traffic is None:
        return ()
    topology = topology or storefront_topology()
    judged = []
    for fault in faults:
        if fault.applied_at_s is None:
            judged.append(
                FaultReach(
                    index=fault.index,
                    fault=fault.label,
                    target=f"proxy {fault.proxy}" if fault.proxy else f"service {fault.service}",
                    reach="not-judged",
                    detail=f"Fault {fault.label!r} was never applied.",
                )
            )
            continue
        start = fault.applied_at_s
        end = fault.removed_at_s if fault.removed_at_s is not None else load_end_s
        if fault.proxy is not None:
            judged.append(_proxy_reach(fault, fault.proxy, traffic, start, end))
        else:
            service = fault.service or ""
            judged.append(_service_reach(fault, service, timeline, traffic, topology, start, end))
    return tuple(judged)


def unreached(reach: Sequence[FaultReach]) -> tuple[FaultReach, ...]:
    """The faults that make a run inconclusive: no traffic, or traffic not measured."""
    return tuple(r for r in reach if r.reach in ("no", "not-measured"))


def reach_reason(reach: Sequence[FaultReach]) -> str:
    """One paragraph for the score card: why the faults leave the run without a verdict."""
    return " ".join(r.detail.rstrip(".") + "." for r in unreached(reach))
