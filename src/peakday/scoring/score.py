"""The resilience score (0-100) and the run's verdict from SLO verdicts (pure).

score = 100 x sum(weight x points) / sum(weight) over the SLOs with a verdict, where pass = 1,
warn = 0.5 and fail = 0; inconclusive SLOs are left out of the score but keep the verdict from
being a pass. Sub-scores use the same formula over the SLOs of one phase. See docs/scoring.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from peakday.experiment.models import Scoring
from peakday.results.model import ScoreCard, SloResult, Verdict
from peakday.scoring.phases import phase_kind

POINTS: dict[str, float] = {"pass": 1.0, "warn": 0.5, "fail": 0.0}


def weighted_score(results: Sequence[SloResult]) -> float | None:
    """100 x weighted mean of points over the judged SLOs; None when nothing weighs."""
    judged = [r for r in results if r.verdict in POINTS and r.weight > 0]
    weight = sum(r.weight for r in judged)
    if weight <= 0:
        return None
    return 100.0 * sum(r.weight * POINTS[r.verdict] for r in judged) / weight


def _bounds(results: Sequence[SloResult]) -> tuple[float | None, float | None]:
    """The total if every inconclusive SLO had failed, and if every one had passed."""
    weighted = [r for r in results if r.weight > 0]
    weight = sum(r.weight for r in weighted)
    if weight <= 0:
        return None, None
    earned = sum(r.weight * POINTS[r.verdict] for r in weighted if r.verdict in POINTS)
    open_weight = sum(r.weight for r in weighted if r.verdict == "inconclusive")
    return 100.0 * earned / weight, 100.0 * (earned + open_weight) / weight


def _names(results: Sequence[SloResult]) -> str:
    return ", ".join(repr(r.name) for r in results)


def verdict_of(
    results: Sequence[SloResult], total: float | None, highest: float | None, scoring: Scoring
) -> tuple[Verdict, str]:
    """The run's verdict and the reason, in order: key failures, a certain fail, missing data,
    then the score against pass_score and warn_score."""
    if not results:
        return "inconclusive", "The experiment has no SLOs to judge."
    key_failures = [r for r in results if r.key and r.verdict == "fail"]
    if key_failures:
        return "fail", f"Key SLO {_names(key_failures)} failed."
    if highest is not None and highest < scoring.warn_score:
        return "fail", (
            f"The score is at most {highest:.0f} even if every inconclusive SLO had passed, "
            f"below warn_score {scoring.warn_score:g}."
        )
    missing = [r for r in results if r.verdict == "inconclusive" and (r.weight > 0 or r.key)]
    if missing:
        return "inconclusive", f"No data to judge {_names(missing)}."
    if total is None:
        return "inconclusive", "Every SLO has weight 0, so there is no score."
    if total >= scoring.pass_score:
        return "pass", f"Score {total:.0f} is at least pass_score {scoring.pass_score:g}."
    if total >= scoring.warn_score:
        return "warn", (
            f"Score {total:.0f} is below pass_score {scoring.pass_score:g} but at least "
            f"warn_score {scoring.warn_score:g}."
        )
    return "fail", f"Score {total:.0f} is below warn_score {scoring.warn_score:g}."


def score_card(results: Sequence[SloResult], scoring: Scoring) -> tuple[ScoreCard, Verdict]:
    total = weighted_score(results)
    lowest, highest = _bounds(results)
    verdict, reason = verdict_of(results, total, highest, scoring)
    card = ScoreCard(
        total=total,
        baseline=weighted_score([r for r in results if phase_kind(r.phase) == "baseline"]),
        fault=weighted_score([r for r in results if phase_kind(r.phase) == "fault"]),
        recovery=weighted_score([r for r in results if phase_kind(r.phase) == "recovery"]),
        whole_run=weighted_score([r for r in results if r.phase == "all"]),
        lowest=lowest,
        highest=highest,
        pass_score=scoring.pass_score,
        warn_score=scoring.warn_score,
        key_failures=tuple(r.name for r in results if r.key and r.verdict == "fail"),
        inconclusive=tuple(r.name for r in results if r.verdict == "inconclusive"),
        reason=reason,
    )
    return card, verdict
