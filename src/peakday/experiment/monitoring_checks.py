"""Checks on server-side signals (pure; used by crossref.py): `source: prometheus` SLOs and stop
conditions, `monitoring:` and `alerts:`.
"""

from __future__ import annotations

from collections.abc import Iterator

from peakday.errors import SpecIssue
from peakday.experiment.hints import all_of, did_you_mean
from peakday.experiment.models import Experiment, Slo, StopCondition
from peakday.experiment.yaml_lines import KeyPath, Locator

MONITORING_HINT = (
    "Add monitoring: prometheus (peakday starts a Prometheus server scraping the storefront) "
    "or monitoring: {prometheus: 'http://127.0.0.1:9090'} (your own server)."
)


def is_server_side(entry: Slo | StopCondition) -> bool:
    return entry.source == "prometheus"


def monitoring_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    """Every problem with server-side signals, in the order of the file's sections."""
    yield from _monitoring_choice(experiment, locator)
    entries: list[tuple[KeyPath, Slo | StopCondition]] = [
        (("slos", i), slo) for i, slo in enumerate(experiment.slos)
    ]
    entries += [(("stop_conditions", i), c) for i, c in enumerate(experiment.stop_conditions)]
    for here, entry in entries:
        yield from _series_issues(here, entry, experiment, locator)
    yield from _alert_issues(experiment, locator)


def _monitoring_choice(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    if experiment.monitoring != "prometheus":
        return
    if experiment.platform == "compose" and experiment.compose is not None:
        # The storefront on compose (no compose section) is scraped on its published ports.
        yield locator.issue(
            ("monitoring",),
            "monitoring: prometheus starts a server that scrapes peakday's storefront, which "
            "your own compose project does not run.",
            "Point at the Prometheus server that scrapes your project: "
            "monitoring: {prometheus: 'http://127.0.0.1:9090'}.",
        )
    elif experiment.platform == "external":
        yield locator.issue(
            ("monitoring",),
            "monitoring: prometheus starts a server that scrapes peakday's storefront, which the "
            "external platform does not run.",
            "Point at the Prometheus server that scrapes your system: "
            "monitoring: {prometheus: 'http://127.0.0.1:9090'}.",
        )


def _series_issues(
    here: KeyPath, entry: Slo | StopCondition, experiment: Experiment, locator: Locator
) -> Iterator[SpecIssue]:
    kind = "SLO" if here[0] == "slos" else "stop condition"
    if is_server_side(entry):
        if entry.query is None:
            yield locator.issue(
                (*here, "source"),
                f"The {kind} {entry.name!r} reads Prometheus but has no PromQL query.",
                "Add query: with an expression giving one value, such as "
                '\'sum(rate(peakday_http_requests_total{route="/login",status=~"5.."}[5s]))\'.',
            )
        if entry.metric != "value":
            yield locator.issue(
                (*here, "metric"),
                f"The {kind} {entry.name!r} reads a PromQL query, which has no {entry.metric!r}.",
                "Remove metric: (a query's value is judged as it is), or compute it in PromQL.",
            )
        if experiment.monitoring is None:
            yield locator.issue(
                (*here, "source"),
                f"The {kind} {entry.name!r} reads Prometheus, but the experiment has no "
                "monitoring.",
                MONITORING_HINT,
            )
        return
    if entry.query is not None:
        yield locator.issue(
            (*here, "query"),
            f"The {kind} {entry.name!r} has a PromQL query but reads the load generator.",
            "Add source: prometheus to judge the query, or remove query:.",
        )
    if entry.metric == "value":
        yield locator.issue(
            (*here, "metric"),
            f"metric 'value' is a PromQL query's value; the {kind} {entry.name!r} has none.",
            "Use success_rate, a latency percentile or rps, or source: prometheus with a query.",
        )


def _alert_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    alerts = experiment.alerts
    if alerts is None:
        return
    if experiment.monitoring is None:
        yield locator.issue(("alerts",), "alerts: needs a Prometheus server.", MONITORING_HINT)
    elif alerts.rules is not None and experiment.monitoring != "prometheus":
        yield locator.issue(
            ("alerts", "rules"),
            "alerts.rules is loaded into the Prometheus server peakday starts; your own server "
            "evaluates the rules it was configured with.",
            "Remove rules: and name the alerts your server defines, or use monitoring: prometheus.",
        )
    faults = [f.name for f in experiment.faults if f.name]
    for index, expected in enumerate(alerts.expect):
        if expected.fault not in faults:
            yield locator.issue(
                ("alerts", "expect", index, "fault"),
                f"No fault is named {expected.fault!r}, so the alert {expected.alert!r} has no "
                "window to fire in.",
                f"{did_you_mean(expected.fault, faults)}Named faults: {all_of(faults)}."
                if faults
                else "Give the fault a name: and use it here.",
            )
