"""The text of `peakday plan`: phases, the fault schedule, the steady-state check, stop conditions
and which SLOs are judged in which phase, plus what the experiment names that does not exist; pure.
"""

from __future__ import annotations

from collections.abc import Collection

from peakday.experiment.models import Compose, Experiment, External, Fault, Slo
from peakday.experiment.objectives import kind_of
from peakday.experiment.units import format_duration_s as fmt
from peakday.reporting.formatting import format_table
from peakday.results.model import AppliedFault
from peakday.scoring.phases import compute_phases, phase_kind
from peakday.topology import JOURNEY_STEPS, Topology, storefront_topology

_PHASE_NOTES = {
    "warmup": "excluded from scoring",
    "baseline": "steady state, before any fault",
    "recovery": "after the last fault is removed",
    "all": "everything after the warmup",
}
_KIND_NOTES = {
    "absolute": "",
    "baseline": "vs this run's baseline",
    "reference": "vs the compare_to run",
}
_ATTRIBUTE_UNITS = {
    "latency": "ms",
    "jitter": "ms",
    "timeout": "ms",
    "delay": "ms",
    "rate": "KB/s",
    "bytes": "bytes",
    "average_size": "bytes",
    "size_variation": "bytes",
}


def planned_phases(experiment: Experiment) -> list[tuple[str, str, str, str]]:
    faults = [
        AppliedFault(
            index=i, label=f.label, proxy=f.proxy, toxic=f.toxic,
            planned_at_s=f.at, planned_end_s=f.end,
        )
        for i, f in enumerate(experiment.faults)
    ]  # fmt: skip
    rows = []
    for phase in compute_phases(experiment.load.warmup, experiment.load.duration, faults):
        note = _PHASE_NOTES.get(phase.kind, "fault injected")
        rows.append((fmt(phase.start_s), fmt(phase.end_s), phase.name, note))
    return rows


_SERVICE_ACTIONS = {
    "kill": "killed, started again at the end",
    "stop": "stopped, started at the end",
    "pause": "paused (frozen), unpaused at the end",
    "restart": "restarted; the window is its time to recover",
}


def describe_fault(fault: Fault, topology: Topology) -> str:
    if fault.is_service_fault:
        return _SERVICE_ACTIONS.get(str(fault.action), str(fault.action))
    attributes = ", ".join(
        f"{name} {value:g} {_ATTRIBUTE_UNITS.get(name, '')}".rstrip()
        for name, value in fault.attributes.items()
    )
    if fault.is_behaviour_fault:
        share = "" if fault.toxicity >= 1 else f", {fault.toxicity:.0%} of requests"
        return f"{fault.behaviour} (played by the service): {attributes or 'defaults'}{share}"
    if fault.toxic == "timeout" and fault.attributes.get("timeout") == 0:
        attributes += " (connections hang until the client gives up)"
    if fault.toxic == "down":
        return "proxy disabled: connections refused"
    share = "" if fault.toxicity >= 1 else f", {fault.toxicity:.0%} of connections"
    return f"{fault.toxic}: {attributes or 'defaults'}; {fault.stream}{share}"


def where(
    fault: Fault,
    topology: Topology,
    external: External | None = None,
    compose: Compose | None = None,
) -> str:
    if compose is not None:
        if fault.proxy is not None:
            known = "" if fault.proxy in compose.intercept else " (unknown)"
            return f"proxy {fault.proxy} -> service {fault.proxy} of {compose.file}{known}"
        return f"service {fault.service} of {compose.file}"
    if external is not None and fault.proxy in external.proxies:
        upstream = external.proxies[fault.proxy].upstream or "(existing proxy)"
        address = external.upstreams.get(upstream, "your own Toxiproxy")
        return f"proxy {fault.proxy} -> {upstream} ({address}, your own system)"
    if fault.is_service_fault or fault.is_behaviour_fault:
        known = "" if fault.service in topology.service_names else " (unknown)"
        return f"service {fault.service}{known}"
    if fault.proxy is None or fault.proxy not in topology.proxy_names:
        return f"proxy {fault.proxy} (unknown)"
    route = topology.proxy(fault.proxy)
    return f"proxy {route.name} -> {route.upstream} ({route.purpose})"


SLO_HEADER = ("phase", "SLO", "step", "metric", "objective", "warning", "weight", "key")


def slo_rows(experiment: Experiment) -> list[tuple[str, ...]]:
    order = {"baseline": 0, "fault": 1, "recovery": 2, "all": 3}
    rows: list[tuple[str, ...]] = []
    for slo in sorted(experiment.slos, key=lambda s: order.get(phase_kind(s.phase), 9)):
        rows.append(
            (
                slo.phase,
                slo.name,
                slo.request,
                slo.metric,
                _objective_text(slo),
                slo.warning or "-",
                f"{slo.weight:g}",
                "yes" if slo.key else "-",
            )
        )
    return rows


def _objective_text(slo: Slo) -> str:
    if slo.metric == "error_budget":
        return f"{slo.objective} of budget at {slo.target}"
    note = _KIND_NOTES[kind_of(slo.parsed_objective)]
    text = f"{slo.objective} ({note})" if note else slo.objective
    if slo.window is not None:
        text += f" in every {fmt(slo.window)} window"
    if slo.within is not None:
        text += f", within {slo.within}"
    return text


def named_things_issues(experiment: Experiment, topology: Topology) -> list[str]:
    """What the experiment names that the topology lacks (validation catches most of it)."""
    if experiment.on_user_system:
        # the user's own proxies; their request names are known only at run time
        defined: Collection[str] = ()
        where = "external.proxies"
        if experiment.platform == "compose" and experiment.compose is not None:
            defined, where = tuple(experiment.compose.intercept), "compose.intercept"
        elif experiment.external is not None:
            defined = tuple(experiment.external.proxies)
        return [
            f"fault {f.label!r}: no proxy {f.proxy!r} in {where}"
            for f in experiment.faults
            if f.proxy is not None and f.proxy not in defined
        ]
    problems = []
    for fault in experiment.faults:
        if fault.is_service_fault or fault.is_behaviour_fault:
            if fault.service not in topology.service_names:
                problems.append(f"fault {fault.label!r}: no service {fault.service!r}")
        elif fault.proxy is None or fault.proxy not in topology.proxy_names:
            problems.append(f"fault {fault.label!r}: no proxy {fault.proxy!r}")
        elif topology.proxy(fault.proxy).upstream not in topology.service_names:
            upstream = topology.proxy(fault.proxy).upstream
            problems.append(f"proxy {fault.proxy!r}: no service {upstream!r} behind it")
    steps = {step for steps in JOURNEY_STEPS.values() for step in steps}
    # server-side entries read a PromQL query, not a step
    named = [(s.name, s.request) for s in experiment.slos if s.source == "client"]
    named += [(c.name, c.request) for c in experiment.stop_conditions if c.source == "client"]
    problems += [f"{name!r}: no step {step!r}" for name, step in named if step not in steps]
    return problems


def format_plan(experiment: Experiment, file: str, topology: Topology | None = None) -> str:
    topology = topology or storefront_topology()
    load = experiment.load
    journeys = ", ".join(f"{j} {w:g}" for j, w in load.journeys.items() if w > 0)
    enabled = [j for j, w in load.journeys.items() if w > 0]
    steps = list(dict.fromkeys(s for j in enabled for s in JOURNEY_STEPS[j]))
    mix = f"journeys {journeys}"
    external = experiment.external if experiment.platform == "external" else None
    compose = experiment.compose if experiment.platform == "compose" else None
    own = external or compose
    if own is not None:
        classes = ", ".join(f"{c} {w:g}" for c, w in own.user_classes.items() if w > 0)
        mix = f"user classes {classes or 'and weights as ' + own.locustfile + ' has them'}"
        steps = ["as the locustfile names them"]
    out = [f"Plan for {experiment.name} ({file}); nothing is started.", ""]
    if experiment.description:
        out += [experiment.description.strip(), ""]
    model = (
        f"{load.arrival_rate:g} journeys/s on up to {load.max_concurrency} users (open model)"
        if load.arrival_rate is not None
        else f"{load.users} users (spawn {load.spawn_rate:g}/s)"
    )
    out.append(
        f"Load: {model} for {fmt(load.duration)} on the "
        f"{experiment.platform} platform; {mix}; steps {', '.join(steps)}."
    )
    phases = format_table(("from", "to", "phase", ""), planned_phases(experiment), indent="  ")
    out += ["", "Phases", phases]
    out += ["", "Fault schedule"]
    if experiment.faults:
        rows: list[tuple[str, ...]] = []
        for fault in sorted(experiment.faults, key=lambda f: f.at):
            rows.append(
                (fmt(fault.at), fmt(fault.duration), fault.label, describe_fault(fault, topology),
                 where(fault, topology, external, compose))
            )  # fmt: skip
        out.append(format_table(("at", "for", "fault", "what", "where"), rows, indent="  "))
        out.append(
            "  Every fault is removed at its end, and all of them at once on Ctrl-C or error."
        )
    else:
        out.append("  none: a load test without faults.")
    out += ["", *_steady_state_lines(experiment), "", "Stop conditions (checked every second)"]
    if experiment.stop_conditions:
        stop_rows: list[tuple[str, ...]] = []
        for c in experiment.stop_conditions:
            then = "end the run" if c.action == "end_run" else "roll back all faults, keep the load"
            stop_rows.append((c.name, f"{c.request} {c.metric} {c.when}", fmt(c.sustained), then))
        out.append(format_table(("name", "breach", "sustained", "then"), stop_rows, indent="  "))
    else:
        out.append("  none")
    out += ["", "SLOs judged"]
    out.append(
        format_table(SLO_HEADER, slo_rows(experiment), indent="  ")
        if experiment.slos
        else "  none: the run will be inconclusive"
    )
    scoring = experiment.scoring
    out += [
        "",
        f"Scoring: pass at score >= {scoring.pass_score:g}, warn at >= {scoring.warn_score:g}; "
        f"recovered = within limits for {fmt(scoring.recovery_hold)} in a row; "
        f"compare_to: {scoring.compare_to or 'none'}.",
    ]
    out += ["", "Names", *name_check_lines(experiment, topology)]
    return "\n".join(out)


AFTER_THE_RUN = (
    "  After the run: every applied fault must have reached traffic (bytes through its proxy "
    "before it or during it, as Toxiproxy counts them; requests to its service), or the run is "
    "inconclusive (exit 4); so is a fault whose traffic could not be measured."
)


def name_check_lines(experiment: Experiment, topology: Topology) -> list[str]:
    """Which names `plan` checked, which it cannot check before the run, and what the run
    checks instead."""
    requests = sorted(
        {s.request for s in experiment.slos if s.source == "client"}
        | {c.request for c in experiment.stop_conditions if c.source == "client"}
    )
    own = experiment.compose if experiment.platform == "compose" else experiment.external
    if experiment.on_user_system and own is not None:
        where = "compose.intercept" if experiment.platform == "compose" else "external.proxies"
        proxies = sorted({f.proxy for f in experiment.faults if f.proxy is not None})
        problems = named_things_issues(experiment, topology)
        checked = f"  Checked now: fault proxies {', '.join(proxies) or '-'} against {where}: " + (
            "all defined." if not problems else "PROBLEMS: " + "; ".join(problems)
        )
        return [
            checked,
            f"  Not checkable now: request names {', '.join(requests) or '-'}. Your locustfile "
            f"({own.locustfile}) names its requests only when it sends them, so a misspelt "
            "name shows only after the run: its SLO is then inconclusive, and its detail lists "
            "the request names that did run, with the nearest one.",
            AFTER_THE_RUN,
        ]
    problems = named_things_issues(experiment, topology)
    proxies = sorted({f.proxy for f in experiment.faults if f.proxy is not None})
    services = sorted(
        {topology.proxy(p).upstream for p in proxies if p in topology.proxy_names}
        | {f.service for f in experiment.faults if f.service is not None}
    )
    return [
        f"  Checked now: proxies {', '.join(proxies) or '-'}; "
        + f"services {', '.join(services) or '-'}; "
        + f"steps {', '.join(requests) or '-'} (the storefront journeys' request names): "
        + ("all exist." if not problems else "PROBLEMS: " + "; ".join(problems)),
        AFTER_THE_RUN,
    ]


def _steady_state_lines(experiment: Experiment) -> list[str]:
    baseline = [s for s in experiment.slos if s.phase == "baseline"]
    if not experiment.faults:
        return ["Steady-state check: none (no faults)."]
    first = fmt(min(f.at for f in experiment.faults))
    if not baseline:
        return [f"Steady-state check at {first}: no baseline SLOs, so faults always go ahead."]
    names = ", ".join(f"{s.name} ({s.request} {s.metric} {s.objective})" for s in baseline)
    then = (
        "the faults go ahead anyway (continue_if_baseline_not_met)"
        if experiment.scoring.continue_if_baseline_not_met
        else "no fault is injected, the load stops and the run ends 'baseline-not-met' (exit 5)"
    )
    return [f"Steady-state check at {first}: {names}.", f"  If it does not hold: {then}."]
