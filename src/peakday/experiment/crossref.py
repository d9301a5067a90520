"""Checks that need the whole experiment and the topology, run once its shape is valid (pure).

Proxies and steps must exist, toxic attributes must suit their toxic, faults must fit inside the
run without clashing, and every SLO must have something to judge.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping

from peakday.errors import SpecIssue
from peakday.experiment.hints import all_of, did_you_mean, one_of
from peakday.experiment.load_checks import shape_issues
from peakday.experiment.models import FAULT_PHASE_PREFIX, TOXIC_ATTRIBUTES, Experiment, Fault
from peakday.experiment.monitoring_checks import monitoring_issues
from peakday.experiment.platform_checks import fault_kind_issues, platform_issues, proxy_names
from peakday.experiment.service_level_checks import behaviour_overlaps
from peakday.experiment.slo_checks import scoring_issues
from peakday.experiment.units import format_duration_s as fmt
from peakday.experiment.workers_checks import workers_issues
from peakday.experiment.yaml_lines import Locator
from peakday.topology import ALL_STEPS, JOURNEY_STEPS, Topology

# Units Toxiproxy reads each attribute in, per toxic (slicer's delay is in microseconds).
_ATTRIBUTE_UNITS: Mapping[tuple[str, str], str] = types.MappingProxyType(
    {
        ("latency", "latency"): "ms",
        ("latency", "jitter"): "ms",
        ("bandwidth", "rate"): "KB/s",
        ("slow_close", "delay"): "ms",
        ("timeout", "timeout"): "ms",
        ("reset_peer", "timeout"): "ms",
        ("slicer", "average_size"): "bytes",
        ("slicer", "size_variation"): "bytes",
        ("slicer", "delay"): "microseconds",
        ("limit_data", "bytes"): "bytes",
    }
)
# Attributes without which the toxic does nothing useful (Toxiproxy would default them to 0),
# with an example value for the hint.
_REQUIRED_ATTRIBUTES: Mapping[str, tuple[str, int]] = types.MappingProxyType(
    {
        "latency": ("latency", 500),
        "timeout": ("timeout", 5000),
        "bandwidth": ("rate", 100),
        "limit_data": ("bytes", 1024),
    }
)


def reference_issues(
    experiment: Experiment, locator: Locator, topology: Topology
) -> list[SpecIssue]:
    """Every cross-reference problem, in the order of the file's sections."""
    return [
        *_load_issues(experiment, locator),
        *platform_issues(experiment, locator),
        *_fault_issues(experiment, locator, topology),
        *_overlap_issues(experiment, locator),
        *_slo_issues(experiment, locator),
        *monitoring_issues(experiment, locator),
        *scoring_issues(experiment, locator),
        *workers_issues(experiment, locator),
    ]


def _load_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    load = experiment.load
    if load.warmup >= load.duration:
        yield locator.issue(
            ("load", "warmup"),
            f"The warmup ({fmt(load.warmup)}) is not shorter than the whole run "
            f"({fmt(load.duration)}), so nothing after it would be measured.",
            "Make load.warmup shorter than load.duration.",
        )
    previous_until = 0.0
    for index, stage in enumerate(load.stages):
        if stage.until <= previous_until:
            after = (
                "the start of the load"
                if index == 0
                else f"the previous stage's end at {fmt(previous_until)}"
            )
            yield locator.issue(
                ("load", "stages", index, "until"),
                f"This stage ends at {fmt(stage.until)}, which is not after {after}.",
                "List stages in order; each 'until' counts from the start of the load, "
                "not from the previous stage.",
            )
        previous_until = max(previous_until, stage.until)
    if load.stages and load.stages[-1].until > load.duration:
        yield locator.issue(
            ("load", "stages", len(load.stages) - 1, "until"),
            f"The last stage ends at {fmt(load.stages[-1].until)}, after the run ends at "
            f"{fmt(load.duration)} (load.duration).",
            "Shorten the stages or lengthen load.duration; time past the end never runs.",
        )
    yield from shape_issues(load, locator)  # load.shape


def _fault_issues(
    experiment: Experiment, locator: Locator, topology: Topology
) -> Iterator[SpecIssue]:
    load = experiment.load
    named: dict[str, int] = {}
    for index, fault in enumerate(experiment.faults):
        here = ("faults", index)
        yield from fault_kind_issues(fault, index, experiment, locator, topology)
        known_proxies = proxy_names(experiment, topology)
        if fault.proxy is not None and fault.proxy not in known_proxies:
            yield locator.issue(
                (*here, "proxy"),
                f"Unknown proxy {fault.proxy!r}.",
                f"{did_you_mean(fault.proxy, known_proxies)}"
                f"Known proxies: {all_of(known_proxies)}.",
            )
        if fault.toxic is not None:
            yield from _attribute_issues(fault, index, locator)
        if fault.at < load.warmup:
            yield locator.issue(
                (*here, "at"),
                f"The fault {fault.label!r} starts at {fmt(fault.at)}, during the warmup, "
                f"which lasts until {fmt(load.warmup)} (load.warmup).",
                f"Start it at {fmt(load.warmup)} or later, so the baseline is measured first.",
            )
        if fault.end > load.duration:
            yield locator.issue(
                (*here, "duration"),
                f"The fault {fault.label!r} runs from {fmt(fault.at)} to {fmt(fault.end)}, "
                f"past the end of the run at {fmt(load.duration)} (load.duration).",
                "Start it earlier, shorten it, or lengthen load.duration.",
            )
        if fault.toxic == "down" and "toxicity" in fault.model_fields_set and fault.toxicity < 1:
            yield locator.issue(
                (*here, "toxicity"),
                f"A 'down' fault disables the whole proxy, so toxicity {fault.toxicity!r} "
                "has no effect.",
                "Remove toxicity, or use reset_peer or timeout for a partial failure.",
            )
        if fault.name is not None:
            if fault.name in named:
                yield locator.issue(
                    (*here, "name"),
                    f"The fault name {fault.name!r} is already used by "
                    f"faults[{named[fault.name]}].",
                    "Give each fault its own name; reports refer to faults by name.",
                )
            named.setdefault(fault.name, index)


def _attribute_issues(fault: Fault, index: int, locator: Locator) -> Iterator[SpecIssue]:
    if fault.toxic is None:
        return
    allowed = sorted(TOXIC_ATTRIBUTES[fault.toxic])
    here = ("faults", index, "attributes")
    for name, value in fault.attributes.items():
        if name not in allowed:
            if fault.toxic == "down":
                yield locator.issue(
                    (*here, name),
                    f"A 'down' fault takes no attributes, got {name!r}.",
                    "'down' disables the proxy outright; remove its attributes.",
                )
                continue
            accepted = [f"{item} ({_ATTRIBUTE_UNITS[(fault.toxic, item)]})" for item in allowed]
            yield locator.issue(
                (*here, name),
                f"The {fault.toxic} toxic has no attribute {name!r}.",
                f"{did_you_mean(name, allowed)}It accepts {all_of(accepted)}.",
            )
        elif value < 0 or value != int(value):
            unit = _ATTRIBUTE_UNITS[(fault.toxic, name)]
            yield locator.issue(
                (*here, name),
                f"The attribute {name!r} must be a whole number of at least 0, got {value:g}.",
                f"Toxiproxy reads it as a whole number of {unit}.",
            )
    required = _REQUIRED_ATTRIBUTES.get(fault.toxic)
    if required is not None and required[0] not in fault.attributes:
        name, example = required
        unit = _ATTRIBUTE_UNITS[(fault.toxic, name)]
        yield locator.issue(
            here,
            f"The {fault.toxic} toxic needs the attribute {name!r} ({unit}); "
            "without it the fault does nothing.",
            f"Add it under attributes, such as {name}: {example}.",
        )


def _overlap_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    faults = experiment.faults
    for later in range(len(faults)):
        b = faults[later]
        for earlier in range(later):
            a = faults[earlier]
            if a.is_behaviour_fault or b.is_behaviour_fault:
                clash = behaviour_overlaps(a, b)
                if clash is not None:
                    yield locator.issue(
                        ("faults", later, "at"),
                        f"The fault {b.label!r} ({fmt(b.at)} to {fmt(b.end)}) overlaps "
                        f"faults[{earlier}] {a.label!r} ({fmt(a.at)} to {fmt(a.end)}) on "
                        f"service {b.service!r}: {clash}.",
                        "Move one so the windows do not overlap.",
                    )
                continue
            if a.is_service_fault or b.is_service_fault:
                # Two actions on one service at once would undo each other.
                if a.service == b.service and a.at < b.end and b.at < a.end:
                    yield locator.issue(
                        ("faults", later, "at"),
                        f"The fault {b.label!r} ({fmt(b.at)} to {fmt(b.end)}) overlaps "
                        f"faults[{earlier}] {a.label!r} ({fmt(a.at)} to {fmt(a.end)}); both act "
                        f"on service {b.service!r}.",
                        "Move one so the windows do not overlap.",
                    )
                continue
            # Toxics on different streams are separate toxics in Toxiproxy; 'down' has no stream.
            same_kind = a.proxy == b.proxy and a.toxic == b.toxic
            same_stream = a.stream == b.stream or a.toxic == "down"
            if same_kind and same_stream and a.at < b.end and b.at < a.end:
                yield locator.issue(
                    ("faults", later, "at"),
                    f"The fault {b.label!r} ({fmt(b.at)} to {fmt(b.end)}) overlaps "
                    f"faults[{earlier}] {a.label!r} ({fmt(a.at)} to {fmt(a.end)}); both put "
                    f"{b.toxic!r} on proxy {b.proxy!r}.",
                    "Merge them into one fault, or move one so the windows do not overlap.",
                )


def _slo_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    enabled = [journey for journey, weight in experiment.load.journeys.items() if weight > 0]
    produced = {step for journey in enabled for step in JOURNEY_STEPS[journey]}
    names: dict[str, int] = {}
    for index, slo in enumerate(experiment.slos):
        here = ("slos", index)
        if slo.name in names:
            yield locator.issue(
                (*here, "name"),
                f"The SLO name {slo.name!r} is already used by slos[{names[slo.name]}].",
                "Give each SLO its own name; reports and scores refer to SLOs by name.",
            )
        names.setdefault(slo.name, index)
        if experiment.on_user_system or slo.source == "prometheus":
            pass  # the user's locustfile names its own requests; a query is its own series
        elif slo.request not in ALL_STEPS:
            yield locator.issue(
                (*here, "request"),
                f"Unknown step {slo.request!r}.",
                f"{did_you_mean(slo.request, ALL_STEPS)}Known steps: {all_of(ALL_STEPS)}.",
            )
        elif slo.request not in produced:
            senders = [j for j, steps in JOURNEY_STEPS.items() if slo.request in steps]
            yield locator.issue(
                (*here, "request"),
                f"No enabled journey sends {slo.request!r} requests, so the SLO {slo.name!r} "
                "would have nothing to judge.",
                f"{slo.request!r} comes from the {one_of(senders)} journey; give it a weight "
                f"above 0 under load.journeys, such as {senders[0]}: 2.",
            )
        problem = _phase_problem(slo.phase, experiment)
        if problem:
            message, hint = problem
            yield locator.issue((*here, "phase"), f"The SLO {slo.name!r} {message}", hint)


def _phase_problem(phase: str, experiment: Experiment) -> tuple[str, str] | None:
    """Why `phase` would hold no time to judge in this experiment, or None when it has some."""
    faults = experiment.faults
    load = experiment.load
    if phase.startswith(FAULT_PHASE_PREFIX):
        name = phase.removeprefix(FAULT_PHASE_PREFIX)
        labels = [fault.label for fault in faults]
        if name in labels:
            return None
        if not labels:
            return (
                f"judges the window of fault {name!r}, but the experiment has no faults.",
                "Add a fault under 'faults', or use phase 'all'.",
            )
        return (
            f"judges the window of fault {name!r}, but no fault has that name.",
            f"{did_you_mean(name, labels)}Known faults: "
            f"{all_of(f'{FAULT_PHASE_PREFIX}{label}' for label in labels)}.",
        )
    if phase in ("fault", "recovery", "each-fault") and not faults:
        return (
            f"judges the {phase!r} phase, but the experiment has no faults, so nothing "
            "would be judged.",
            "Add a fault under 'faults', or use phase 'all'.",
        )
    if phase == "baseline" and faults:
        first_start = min(fault.at for fault in faults)
        if first_start <= load.warmup:
            return (
                f"judges the 'baseline' phase, but the first fault starts at {fmt(first_start)} "
                f"and the warmup lasts until {fmt(load.warmup)}, so there is no baseline to judge.",
                f"Start the first fault after {fmt(load.warmup)} (load.warmup), "
                "or use phase 'all'.",
            )
    if phase == "recovery" and faults and not _has_time_after_faults(experiment):
        return (
            f"judges the 'recovery' phase, but faults last until the run ends at "
            f"{fmt(load.duration)}, so there is no recovery to judge.",
            "End the last fault before load.duration, or lengthen the run.",
        )
    return None


def _has_time_after_faults(experiment: Experiment) -> bool:
    """True when some fault-free time follows a fault before the run ends."""
    windows = sorted((fault.at, fault.end) for fault in experiment.faults)
    covered_until = windows[0][1]
    for start, end in windows[1:]:
        if start > covered_until:
            return True
        covered_until = max(covered_until, end)
    return covered_until < experiment.load.duration
