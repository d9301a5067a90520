"""Cross-checks of SLO kinds, stop conditions and scoring settings, once the shape is valid (pure).

Kept apart from crossref.py: these are the checks that scoring depends on.
"""

from __future__ import annotations

from collections.abc import Iterator

from peakday.errors import SpecIssue
from peakday.experiment.hints import all_of, did_you_mean, one_of
from peakday.experiment.models import Experiment, Slo
from peakday.experiment.objectives import AnyObjective, RelativeObjective, kind_of, upper_bound
from peakday.experiment.units import format_duration_s as fmt
from peakday.experiment.window_checks import window_issues
from peakday.experiment.yaml_lines import Locator
from peakday.topology import ALL_STEPS, JOURNEY_STEPS


def scoring_issues(experiment: Experiment, locator: Locator) -> list[SpecIssue]:
    return [
        *_slo_kind_issues(experiment, locator),
        *_stop_condition_issues(experiment, locator),
        *_settings_issues(experiment, locator),
    ]


def _slo_kind_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    for index, slo in enumerate(experiment.slos):
        here = ("slos", index)
        if slo.metric == "error_budget" and slo.target is None:
            yield locator.issue(
                here,
                f"The SLO {slo.name!r} judges an error budget but names no target.",
                "Add target: '99.5%' (the success rate whose shortfall is the budget).",
            )
        if slo.metric != "error_budget":
            for key in ("target", "burn_rate_alerts"):
                if key in slo.model_fields_set:
                    yield locator.issue(
                        (*here, key),
                        f"{key!r} only applies to metric 'error_budget', not {slo.metric!r}.",
                        f"Remove {key!r}, or use metric: error_budget.",
                    )
        for alert_index, alert in enumerate(slo.burn_rate_alerts or ()):
            if alert.short >= alert.long:
                yield locator.issue(
                    (*here, "burn_rate_alerts", alert_index, "short"),
                    f"The short window ({fmt(alert.short)}) is not shorter than the long window "
                    f"({fmt(alert.long)}).",
                    "The short window confirms the burn is still going on; the SRE workbook "
                    "uses one twelfth of the long window.",
                )
        for key, objective in (
            ("objective", slo.parsed_objective),
            ("warning", slo.parsed_warning),
        ):
            if objective is not None:
                yield from _objective_issues(experiment, locator, index, slo, key, objective)
        yield from _warning_issues(locator, index, slo)
        yield from window_issues(locator, index, slo)
    if experiment.slos and sum(slo.weight for slo in experiment.slos) <= 0:
        yield locator.issue(
            ("slos",),
            "Every SLO has weight 0, so the resilience score would have nothing to weigh.",
            "Give the SLOs that matter a weight above 0 (the default is 1).",
        )


def _objective_issues(
    experiment: Experiment,
    locator: Locator,
    index: int,
    slo: Slo,
    key: str,
    objective: AnyObjective,
) -> Iterator[SpecIssue]:
    kind = kind_of(objective)
    if kind == "baseline" and slo.phase == "baseline":
        yield locator.issue(
            ("slos", index, key),
            f"The SLO {slo.name!r} compares the baseline phase with itself ({objective.text!r}).",
            "Judge it in phase fault, recovery or all, or write an absolute objective.",
        )
    if kind == "reference" and experiment.scoring.compare_to is None:
        yield locator.issue(
            ("slos", index, key),
            f"The SLO {slo.name!r} compares with an earlier run ({objective.text!r}), but the "
            "experiment names none.",
            "Add 'scoring: {compare_to: results/last-good}' (a run folder, or a name "
            "under results/).",
        )


def _warning_issues(locator: Locator, index: int, slo: Slo) -> Iterator[SpecIssue]:
    objective, warning = slo.parsed_objective, slo.parsed_warning
    if warning is None or isinstance(objective, RelativeObjective):
        return
    if isinstance(warning, RelativeObjective):
        return
    if upper_bound(objective.comparator) != upper_bound(warning.comparator):
        yield locator.issue(
            ("slos", index, "warning"),
            f"The warning {warning.text!r} points the other way from the objective "
            f"{objective.text!r}.",
            "A warning is a looser version of the objective, such as objective '< 300ms' "
            "with warning '< 500ms'.",
        )
    elif (upper_bound(objective.comparator) and warning.threshold < objective.threshold) or (
        not upper_bound(objective.comparator) and warning.threshold > objective.threshold
    ):
        yield locator.issue(
            ("slos", index, "warning"),
            f"The warning {warning.text!r} is stricter than the objective {objective.text!r}, "
            "so it could never apply.",
            "Make the warning looser, such as objective '< 300ms' with warning '< 500ms'.",
        )


def _stop_condition_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    enabled = [journey for journey, weight in experiment.load.journeys.items() if weight > 0]
    produced = {step for journey in enabled for step in JOURNEY_STEPS[journey]}
    measured_s = experiment.load.duration - experiment.load.warmup
    names: dict[str, int] = {}
    for index, condition in enumerate(experiment.stop_conditions):
        here = ("stop_conditions", index)
        if condition.name in names:
            yield locator.issue(
                (*here, "name"),
                f"The stop condition name {condition.name!r} is already used by "
                f"stop_conditions[{names[condition.name]}].",
                "Give each stop condition its own name; the result says which one fired.",
            )
        names.setdefault(condition.name, index)
        if experiment.on_user_system or condition.source == "prometheus":
            pass  # the user's locustfile names its own requests; a query is its own series
        elif condition.request not in ALL_STEPS:
            yield locator.issue(
                (*here, "request"),
                f"Unknown step {condition.request!r}.",
                f"{did_you_mean(condition.request, ALL_STEPS)}Known steps: {all_of(ALL_STEPS)}.",
            )
        elif condition.request not in produced:
            senders = [j for j, steps in JOURNEY_STEPS.items() if condition.request in steps]
            yield locator.issue(
                (*here, "request"),
                f"No enabled journey sends {condition.request!r} requests, so the stop "
                f"condition {condition.name!r} could never fire.",
                f"{condition.request!r} comes from the {one_of(senders)} journey; give it a "
                "weight above 0 under load.journeys.",
            )
        if 0 < measured_s < condition.sustained:
            yield locator.issue(
                (*here, "sustained"),
                f"The breach must last {fmt(condition.sustained)}, longer than the measured "
                f"run ({fmt(measured_s)} after the warmup), so it could never fire.",
                "Shorten 'sustained', such as sustained: 10s.",
            )


def _settings_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    scoring = experiment.scoring
    if scoring.warn_score > scoring.pass_score:
        yield locator.issue(
            ("scoring", "warn_score"),
            f"warn_score ({scoring.warn_score:g}) is above pass_score ({scoring.pass_score:g}).",
            "A score at or above pass_score passes, between warn_score and pass_score warns; "
            "keep warn_score at or below pass_score.",
        )
