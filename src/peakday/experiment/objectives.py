"""SLO objectives of every kind, read from their text (pure).

    "< 800ms", ">= 99.5%", ">= 50 rps"          absolute (spec.units.parse_objective)
    "<= 1.5x baseline", ">= baseline - 0.5pp"   relative to this run's baseline phase
    "<= +10%", "<= 1.2x reference"              relative to a reference run (scoring.compare_to)
    "<= 50%" with metric error_budget           share of the run's error budget consumed

In an offset, '%' is relative to the base value (+10% = 1.1x) and 'pp' is percentage points of a
success rate, so '>= baseline - 0.5pp' allows 99.9% to fall to 99.4%.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

from peakday.experiment.units import (
    LATENCY_METRICS,
    Comparator,
    Objective,
    SpecValueError,
    parse_objective,
)

__all__ = [
    "EXAMPLES",
    "Against",
    "AnyObjective",
    "Comparator",
    "Objective",
    "ObjectiveKind",
    "RelativeObjective",
    "compare",
    "kind_of",
    "parse_budget_objective",
    "parse_share",
    "parse_slo_objective",
    "parse_target",
    "upper_bound",
]

ObjectiveKind = Literal["absolute", "baseline", "reference"]
Against = Literal["baseline", "reference"]

_CMP = r"(<=|>=|==|<|>)"
_NUM = r"(\d+(?:\.\d+)?)"
_UNIT = r"(%|pp|ms|s|rps|/s)?"
_FACTOR = re.compile(rf"^\s*{_CMP}\s*{_NUM}\s*[x\u00d7]\s*(baseline|reference)\s*$")
_OFFSET = re.compile(rf"^\s*{_CMP}\s*(baseline|reference)\s*(?:([+-])\s*{_NUM}\s*{_UNIT})?\s*$")
_DELTA = re.compile(rf"^\s*{_CMP}\s*([+-])\s*{_NUM}\s*{_UNIT}\s*$")
_ABSOLUTE = re.compile(rf"^\s*{_CMP}\s*{_NUM}\s*(%)?\s*$")

EXAMPLES = (
    "such as '< 800ms', '>= 99.5%', '>= 50 rps', '<= 1.5x baseline', "
    "'>= baseline - 0.5pp' or '<= +10%' (against scoring.compare_to)"
)


def compare(comparator: Comparator, value: float, threshold: float) -> bool:
    return Objective(comparator, threshold, "").holds(value)


@dataclass(frozen=True)
class RelativeObjective:
    """`value <comparator> base * factor + offset`, base being the baseline or reference value.

    The offset is in the metric's canonical units: a ratio for success_rate, ms for latency.
    """

    comparator: Comparator
    against: Against
    factor: float
    offset: float
    text: str

    def threshold(self, base: float) -> float:
        return base * self.factor + self.offset

    def holds(self, value: float, base: float) -> bool:
        return compare(self.comparator, value, self.threshold(base))


AnyObjective = Objective | RelativeObjective


def kind_of(objective: AnyObjective) -> ObjectiveKind:
    return "absolute" if isinstance(objective, Objective) else objective.against


def upper_bound(comparator: Comparator) -> bool:
    """True when the objective caps the value ('<', '<='): higher values are worse."""
    return comparator in ("<", "<=")


def parse_slo_objective(text: str, metric: str) -> AnyObjective:
    """Any objective kind for `metric`; raises SpecValueError with a hint."""
    if metric == "error_budget":
        return parse_budget_objective(text)
    for parse in (_parse_factor, _parse_offset, _parse_delta):
        parsed = parse(text, metric)
        if parsed is not None:
            return parsed
    if _looks_absolute(text):
        return parse_objective(text, metric)
    raise SpecValueError(
        f"Cannot read the objective {text!r}.",
        f"Write a comparison and a number, {EXAMPLES}; quote it in YAML.",
    )


def parse_budget_objective(text: str) -> Objective:
    """'<= 50%': the share of the run's error budget a phase may consume (may exceed 100%)."""
    match = _ABSOLUTE.match(text)
    if not match or match.group(3) != "%":
        raise SpecValueError(
            f"An error_budget objective is the share of the run's error budget consumed, "
            f"got {text!r}.",
            "Write a percentage, such as '<= 50%' (at most half of the budget).",
        )
    return Objective(_comparator(match.group(1)), float(match.group(2)) / 100.0, text.strip())


def parse_target(text: str) -> float:
    """An error budget's success-rate target, '99.5%' -> 0.995 (below 100%)."""
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$", text)
    if not match or not 0 < float(match.group(1)) < 100:
        raise SpecValueError(
            f"An error budget's target is a success rate between 0% and 100%, got {text!r}.",
            "Write it such as '99.5%'; the budget is the 0.5% of requests that may fail.",
        )
    return float(match.group(1)) / 100.0


def parse_share(text: str) -> float:
    """A share of windows or seconds, '95%' -> 0.95 (above 0%, at most 100%)."""
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$", text)
    if not match or not 0 < float(match.group(1)) <= 100:
        raise SpecValueError(
            f"'within' is a share of windows between 0% and 100%, got {text!r}.",
            "Write it such as within: '95%' (95% of the windows must meet the objective).",
        )
    return float(match.group(1)) / 100.0


def _comparator(text: str) -> Comparator:
    return cast(Comparator, text)  # the regex allows nothing else


def _against(text: str) -> Against:
    return cast(Against, text)


def _looks_absolute(text: str) -> bool:
    return "baseline" not in text and "reference" not in text and not re.search(r"[+-]", text)


def _parse_factor(text: str, metric: str) -> RelativeObjective | None:
    match = _FACTOR.match(text)
    if not match:
        return None
    factor = float(match.group(2))
    if factor <= 0:
        raise SpecValueError(
            f"The factor in {text!r} must be above zero.", "Write it such as '<= 1.5x baseline'."
        )
    return RelativeObjective(
        _comparator(match.group(1)), _against(match.group(3)), factor, 0.0, text.strip()
    )


def _parse_offset(text: str, metric: str) -> RelativeObjective | None:
    match = _OFFSET.match(text)
    if not match:
        return None
    comparator, against, sign, number, unit = match.groups()
    factor, offset = 1.0, 0.0
    if sign is not None:
        factor, offset = _factor_and_offset(text, metric, sign, float(number), unit)
    return RelativeObjective(
        _comparator(comparator), _against(against), factor, offset, text.strip()
    )


def _parse_delta(text: str, metric: str) -> RelativeObjective | None:
    """Keptn's '<= +10%': a change against the reference run."""
    match = _DELTA.match(text)
    if not match:
        return None
    comparator, sign, number, unit = match.groups()
    factor, offset = _factor_and_offset(text, metric, sign, float(number), unit)
    return RelativeObjective(_comparator(comparator), "reference", factor, offset, text.strip())


def _factor_and_offset(
    text: str, metric: str, sign: str, number: float, unit: str | None
) -> tuple[float, float]:
    signed = number if sign == "+" else -number
    if unit == "%":
        return 1.0 + signed / 100.0, 0.0
    if metric == "success_rate":
        if unit != "pp":
            raise SpecValueError(
                f"A change of success_rate is in percentage points ('pp') or relative ('%'), "
                f"got {text!r}.",
                "Write it such as '>= baseline - 0.5pp' or '>= -1%'.",
            )
        return 1.0, signed / 100.0
    if metric in LATENCY_METRICS:
        if unit not in ("ms", "s"):
            raise SpecValueError(
                f"A change of {metric} needs a unit (ms, s or %), got {text!r}.",
                f"Write it such as '<= baseline + {number:g}ms' or '<= +10%'.",
            )
        return 1.0, signed * (1000.0 if unit == "s" else 1.0)
    if metric == "rps":
        if unit not in ("rps", "/s", None):
            raise SpecValueError(
                f"A change of rps is in requests per second or '%', got {text!r}.",
                "Write it such as '>= baseline - 5 rps' or '>= -20%'.",
            )
        return 1.0, signed
    raise SpecValueError(f"Unknown metric {metric!r}.")
