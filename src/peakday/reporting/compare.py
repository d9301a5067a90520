"""Two runs side by side, SLO by SLO: what got better, what got worse, and what is only noise.

Pure. A change is a regression when an SLO that passed now fails, or when its value moved the
wrong way by more than the noise allowed for its metric:
  latency      more than `relative` of the old value and more than `latency_floor_ms`;
  success rate more than `sigmas` binomial standard errors (from both runs' request counts)
               and more than `rate_floor` (absolute, 0..1);
  rps          more than `relative` of the old value;
  score        down by more than `score_points`.
Which way is "wrong" comes from the objective: '<' wants lower values, '>' higher ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from rich.console import Group, RenderableType
from rich.text import Text

from peakday.experiment.units import (
    LATENCY_METRICS,
    SpecValueError,
    format_measure,
    parse_objective,
)
from peakday.reporting import extras
from peakday.reporting.formatting import format_score
from peakday.results.model import PhaseWindow, Result, SloResult
from peakday.scoring.phases import rows_in, windows_for

Assessment = Literal["better", "worse", "same", "regression", "new", "removed", "no data"]


@dataclass(frozen=True)
class NoiseRules:
    relative: float = 0.20
    latency_floor_ms: float = 10.0
    sigmas: float = 3.0
    rate_floor: float = 0.001
    score_points: float = 5.0


@dataclass(frozen=True)
class SloChange:
    name: str
    phase: str
    request: str
    metric: str
    objective: str
    before: str
    after: str
    change: str
    verdict_before: str
    verdict_after: str
    assessment: Assessment
    reason: str


@dataclass(frozen=True)
class Comparison:
    name_before: str
    name_after: str
    changes: tuple[SloChange, ...]
    score_before: float | None
    score_after: float | None
    score_assessment: Assessment | None

    @property
    def regressions(self) -> tuple[SloChange, ...]:
        return tuple(c for c in self.changes if c.assessment == "regression")

    @property
    def regressed(self) -> bool:
        return bool(self.regressions) or self.score_assessment == "regression"

    def count(self, assessment: Assessment) -> int:
        return sum(1 for c in self.changes if c.assessment == assessment)


def _lower_is_better(slo: SloResult) -> bool | None:
    try:
        comparator = parse_objective(slo.objective, slo.metric).comparator
    except SpecValueError:
        return None
    if comparator in ("<", "<="):
        return True
    if comparator in (">", ">="):
        return False
    return None


def requests_in_phase(result: Result, slo: SloResult) -> int:
    """The requests behind the SLO's value: its phase, or its worst window when judged per
    window (the value is that window's)."""
    windows = windows_for(slo.phase, result.phases)
    if slo.worst is not None:
        worst = slo.worst
        windows = (
            PhaseWindow(name=worst.phase, kind="all", start_s=worst.start_s, end_s=worst.end_s),
        )
    return sum(r.requests for r in rows_in(result.timeline, slo.request, windows))


def noise_for(
    before: SloResult, after: SloResult, n_before: int, n_after: int, rules: NoiseRules
) -> float:
    """How far a value may move between these two runs and still count as noise."""
    assert before.value is not None and after.value is not None
    if before.metric == "success_rate":
        variance = 0.0
        for p, n in ((before.value, n_before), (after.value, n_after)):
            if n > 0:
                variance += p * (1 - p) / n
        return max(rules.rate_floor, rules.sigmas * math.sqrt(variance))
    if before.metric in LATENCY_METRICS:
        return max(rules.latency_floor_ms, rules.relative * abs(before.value))
    return rules.relative * abs(before.value)


def _change_text(before: SloResult, after: SloResult) -> str:
    assert before.value is not None and after.value is not None
    delta = after.value - before.value
    if before.unit == "ratio":
        return f"{delta * 100:+.2f} pp"
    relative = f", {delta / before.value * 100:+.0f}%" if before.value else ""
    unit = " ms" if before.unit == "ms" else " req/s"
    return f"{delta:+.1f}{unit}{relative}"


def compare_slo(
    before: SloResult, after: SloResult, n_before: int, n_after: int, rules: NoiseRules
) -> tuple[Assessment, str, str]:
    """(assessment, change, reason) for one SLO present in both runs."""
    if before.verdict == "pass" and after.verdict == "fail":
        change = (
            _change_text(before, after)
            if before.value is not None and after.value is not None
            else ""
        )
        return "regression", change, "passed before, fails now"
    if before.value is None or after.value is None:
        return "no data", "", after.detail or before.detail or "no value to compare"
    change = _change_text(before, after)
    lower_better = _lower_is_better(after)
    delta = after.value - before.value
    noise = noise_for(before, after, n_before, n_after, rules)
    if abs(delta) <= noise:
        return "same", change, f"within noise (±{format_measure(noise, after.unit)})"
    if lower_better is None:
        return "worse", change, "changed beyond noise; the objective gives no direction"
    got_worse = delta > 0 if lower_better else delta < 0
    if before.verdict == "fail" and after.verdict == "pass":
        return "better", change, "failed before, passes now"
    if got_worse:
        return (
            "regression",
            change,
            f"worse by more than the noise ({format_measure(noise, after.unit)})",
        )
    return "better", change, "better by more than the noise"


def compare_results(before: Result, after: Result, rules: NoiseRules | None = None) -> Comparison:
    rules = rules or NoiseRules()
    before_by_key = {(s.name, s.phase): s for s in before.slos}
    after_by_key = {(s.name, s.phase): s for s in after.slos}
    changes = []
    for key in [*after_by_key, *(k for k in before_by_key if k not in after_by_key)]:
        old, new = before_by_key.get(key), after_by_key.get(key)
        slo = new or old
        assert slo is not None
        if old is None or new is None:
            assessment: Assessment = "new" if old is None else "removed"
            change, reason = (
                "",
                "only in the second run" if old is None else "only in the first run",
            )
        else:
            n_old, n_new = requests_in_phase(before, old), requests_in_phase(after, new)
            assessment, change, reason = compare_slo(old, new, n_old, n_new, rules)
        changes.append(
            SloChange(
                name=slo.name,
                phase=slo.phase,
                request=slo.request,
                metric=slo.metric,
                objective=slo.objective,
                before=format_measure(old.value, old.unit) if old else "",
                after=format_measure(new.value, new.unit) if new else "",
                change=change,
                verdict_before=old.verdict if old else "",
                verdict_after=new.verdict if new else "",
                assessment=assessment,
                reason=reason,
            )
        )
    score_before, score_after = extras.score(before), extras.score(after)
    score_assessment: Assessment | None = None
    if score_before is not None and score_after is not None:
        delta = score_after - score_before
        if delta < -rules.score_points:
            score_assessment = "regression"
        elif delta > rules.score_points:
            score_assessment = "better"
        else:
            score_assessment = "same"
    return Comparison(
        name_before=before.experiment.name,
        name_after=after.experiment.name,
        changes=tuple(changes),
        score_before=score_before,
        score_after=score_after,
        score_assessment=score_assessment,
    )


_STYLE = {
    "better": "green",
    "regression": "bold red",
    "worse": "yellow",
    "same": "dim",
    "no data": "yellow",
    "new": "cyan",
    "removed": "cyan",
}


def format_comparison(
    comparison: Comparison, label_before: str, label_after: str
) -> RenderableType:
    """A rich table of every SLO, then one line that says whether anything regressed."""
    rows = [
        (
            change,
            f"{change.name} [{change.phase}]",
            f"{change.before or '—'} → {change.after or '—'}",
        )
        for change in comparison.changes
    ]
    name_w = max((len(name) for _, name, _ in rows), default=0)
    values_w = max((len(values) for _, _, values in rows), default=0)
    lines: list[RenderableType] = [Text("SLO by SLO (A → B)", style="bold")]
    for change, name, values in rows:
        verdicts = (
            f"; verdict {change.verdict_before} → {change.verdict_after}"
            if change.verdict_before
            and change.verdict_after
            and change.verdict_before != change.verdict_after
            else ""
        )
        lines.append(
            Text.assemble(
                (f"{change.assessment:<10}", _STYLE[change.assessment]),
                f" {name:<{name_w}}  {values:<{values_w}}"
                + (f"  ({change.change})" if change.change else ""),
            )
        )
        lines.append(
            Text(
                f"{'':<10} {change.request} {change.metric} {change.objective}: "
                f"{change.reason}{verdicts}",
                style="dim",
            )
        )
    table = Group(*lines)
    parts: list[RenderableType] = [Text(f"A: {label_before}\nB: {label_after}")]
    if comparison.name_before != comparison.name_after:
        parts.append(
            Text(
                f"note: comparing different experiments ({comparison.name_before!r} and "
                f"{comparison.name_after!r}); only SLOs with the same name and phase are matched.",
                style="yellow",
            )
        )
    if comparison.score_assessment is not None:
        parts.append(
            Text.assemble(
                f"score {format_score(comparison.score_before)} → "
                f"{format_score(comparison.score_after)}  ",
                (comparison.score_assessment, _STYLE[comparison.score_assessment]),
            )
        )
    parts.append(table)
    regressions = len(comparison.regressions) + (comparison.score_assessment == "regression")
    summary = (
        f"{comparison.count('better')} better, {comparison.count('same')} within noise, "
        f"{comparison.count('worse')} changed, {comparison.count('no data')} without data, "
        f"{comparison.count('new')} new, {comparison.count('removed')} removed"
    )
    if regressions:
        parts.append(Text(f"REGRESSION: {regressions} beyond noise ({summary})", style="bold red"))
        for change in comparison.regressions:
            parts.append(Text(f"  {change.name} [{change.phase}]: {change.reason}"))
        if comparison.score_assessment == "regression":
            parts.append(Text("  the score dropped by more than the noise"))
    else:
        parts.append(Text(f"No regression beyond noise ({summary})", style="bold green"))
    return Group(*parts)
