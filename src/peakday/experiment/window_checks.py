"""Checks of an SLO's per-window judging (`phase: each-fault`, `window`, `within`) (pure)."""

from __future__ import annotations

from collections.abc import Iterator

from peakday.errors import SpecIssue
from peakday.experiment.models import Slo
from peakday.experiment.objectives import kind_of
from peakday.experiment.units import format_duration_s as fmt
from peakday.experiment.yaml_lines import Locator


def windowed(slo: Slo) -> bool:
    """True when the SLO is judged window by window rather than over its whole phase."""
    return slo.phase == "each-fault" or slo.window is not None or slo.within is not None


def window_issues(locator: Locator, index: int, slo: Slo) -> Iterator[SpecIssue]:
    here = ("slos", index)
    if slo.metric == "error_budget":
        for key in ("window", "within"):
            if key in slo.model_fields_set:
                yield locator.issue(
                    (*here, key),
                    f"{key!r} does not apply to metric 'error_budget', which has its own "
                    "burn-rate windows.",
                    f"Remove {key!r}, or set burn_rate_alerts.",
                )
        if slo.phase == "each-fault":
            yield locator.issue(
                (*here, "phase"),
                f"The error-budget SLO {slo.name!r} cannot be judged per fault window.",
                "Use phase 'fault' (the budget over every fault window) or 'fault:NAME'.",
            )
        return
    if slo.window is not None and slo.window != int(slo.window):
        yield locator.issue(
            (*here, "window"),
            f"The window {fmt(slo.window)} is not a whole number of seconds; the timeline has "
            "one row per second.",
            f"Write it such as window: {max(1, round(slo.window))}s.",
        )
    if not windowed(slo):
        return
    for key, objective in (("objective", slo.parsed_objective), ("warning", slo.parsed_warning)):
        if objective is not None and kind_of(objective) == "reference":
            yield locator.issue(
                (*here, key),
                f"The SLO {slo.name!r} is judged window by window, which compares with a "
                f"reference run ({objective.text!r}) cannot do.",
                "Use an absolute or baseline objective, or drop window, within and each-fault.",
            )
