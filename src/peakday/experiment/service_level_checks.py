"""Checks on service-level faults (`service` + `behaviour`) and the `storefront:` section (pure).

A service-level fault is played by a storefront service through its admin endpoint: its
attributes are `status` (an HTTP status), `delay` and `jitter` (ms); `toxicity` is the
fraction of requests (or user-store queries) affected.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping

from peakday.errors import SpecIssue
from peakday.experiment.hints import all_of, did_you_mean
from peakday.experiment.models import Experiment, Fault
from peakday.experiment.yaml_lines import Locator
from peakday.topology import Topology

BEHAVIOUR_FAULT_EXAMPLE = "service: auth and behaviour: login_errors"
# Which services play which behaviour (storefront/misbehaviour.py SERVICE_BEHAVIOURS).
BEHAVIOUR_SERVICES: Mapping[str, tuple[str, ...]] = types.MappingProxyType(
    {
        "errors": ("auth", "checkout", "labels"),
        "login_errors": ("auth",),
        "introspect_errors": ("auth",),
        "slow_user_store": ("auth",),
    }
)
BEHAVIOUR_ATTRIBUTES: Mapping[str, frozenset[str]] = types.MappingProxyType(
    {
        "errors": frozenset({"status"}),
        "login_errors": frozenset({"status"}),
        "introspect_errors": frozenset({"status"}),
        "slow_user_store": frozenset({"delay", "jitter"}),
    }
)
ERROR_STATUSES = (429, 500, 502, 503, 504)


def behaviour_fault_issues(
    fault: Fault, index: int, experiment: Experiment, locator: Locator, topology: Topology
) -> Iterator[SpecIssue]:
    here = ("faults", index)
    behaviour = fault.behaviour
    assert behaviour is not None
    for key in ("proxy", "toxic", "action", "stream"):
        if key in fault.model_fields_set:
            yield locator.issue(
                (*here, key),
                f"{key!r} does not go with 'behaviour': the fault {fault.label!r} is played by "
                "the service itself.",
                f"Remove {key}, or split it into two faults.",
            )
    if fault.service is None:
        yield locator.issue(
            here,
            "A service-level fault needs 'service'.",
            f"Give {BEHAVIOUR_FAULT_EXAMPLE}.",
        )
        return
    if experiment.on_user_system:
        yield locator.issue(
            (*here, "behaviour"),
            f"The service-level fault {fault.label!r} cannot run on the {experiment.platform} "
            "platform: "
            "only peakday's own storefront has the admin endpoint that plays it.",
            "Use a network fault on one of your proxies instead.",
        )
        return
    if fault.service not in topology.service_names:
        yield locator.issue(
            (*here, "service"),
            f"Unknown service {fault.service!r}.",
            f"{did_you_mean(fault.service, topology.service_names)}"
            f"Known services: {all_of(topology.service_names)}.",
        )
        return
    services = BEHAVIOUR_SERVICES[behaviour]
    if fault.service not in services:
        yield locator.issue(
            (*here, "behaviour"),
            f"The {fault.service} service cannot play {behaviour!r}.",
            f"{behaviour!r} is played by {all_of(services)}; {fault.service} plays 'errors'.",
        )
    allowed = sorted(BEHAVIOUR_ATTRIBUTES[behaviour])
    for name, value in fault.attributes.items():
        where = (*here, "attributes", name)
        if name not in allowed:
            yield locator.issue(
                where,
                f"The {behaviour} behaviour has no attribute {name!r}.",
                f"{did_you_mean(name, allowed)}It accepts {all_of(allowed)}.",
            )
        elif name == "status" and value not in ERROR_STATUSES:
            yield locator.issue(
                where,
                f"The injected status must be one of {all_of([str(s) for s in ERROR_STATUSES])}, "
                f"got {value:g}.",
                "Use 503 (unavailable) or 429 (throttled) for the usual cases.",
            )
        elif name in ("delay", "jitter") and not 0 <= value <= 600_000:
            yield locator.issue(
                where,
                f"The attribute {name!r} must be 0 to 600000 ms, got {value:g}.",
                "Give it in milliseconds, such as delay: 5000.",
            )
    if behaviour == "slow_user_store" and "delay" not in fault.attributes:
        yield locator.issue(
            (*here, "attributes"),
            "The slow_user_store behaviour needs the attribute 'delay' (ms); without it the "
            "fault does nothing.",
            "Add it under attributes, such as delay: 8000.",
        )


def behaviour_overlaps(a: Fault, b: Fault) -> str | None:
    """Why two faults on one service clash in time (None when they do not): a process fault
    restarts the service and forgets its misbehaviours, and one behaviour twice is ambiguous."""
    if a.service != b.service or not (a.at < b.end and b.at < a.end):
        return None
    if a.is_behaviour_fault and b.is_behaviour_fault:
        return None if a.behaviour != b.behaviour else f"both play {a.behaviour!r}"
    if a.is_behaviour_fault or b.is_behaviour_fault:
        return "a process fault would restart the service and drop its service-level fault"
    return None
