"""Everything scoring adds to a result, from the saved timeline alone (pure).

`assemble_result` calls `score_timeline` after a run; `rescore` re-judges a saved result,
optionally with another spec's SLOs and scoring settings (`peakday score RESULT --spec FILE`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from peakday.experiment.models import Experiment
from peakday.integrity.model import IntegrityReport
from peakday.results.model import (
    BaselineCheck,
    FaultImpact,
    Outcome,
    PhaseWindow,
    ResiliencyMatrix,
    Result,
    RunStatus,
    ScoreCard,
    SloResult,
    StopRecord,
    TimelineRow,
    Verdict,
)
from peakday.results.reference import ReferenceRun
from peakday.scoring.integrity_slos import integrity_slos
from peakday.scoring.matrix import resiliency_matrix
from peakday.scoring.score import score_card
from peakday.scoring.slo import evaluate_slo


@dataclass(frozen=True)
class Scored:
    slos: tuple[SloResult, ...]
    verdict: Verdict
    score: ScoreCard
    matrix: ResiliencyMatrix | None
    fault_impacts: tuple[FaultImpact, ...]
    outcome: Outcome


def outcome_of(
    status: RunStatus,
    verdict: Verdict,
    baseline_check: BaselineCheck | None,
    stops: Sequence[StopRecord],
) -> Outcome:
    """One word for the run, in order of precedence; the CLI's exit code follows from it."""
    if status in ("interrupted", "error"):
        return status
    if baseline_check is not None and not baseline_check.met and not baseline_check.continued:
        return "baseline-not-met"
    if stops:
        return "aborted"
    return verdict


def score_timeline(
    experiment: Experiment,
    status: RunStatus,
    timeline: Sequence[TimelineRow],
    phases: Sequence[PhaseWindow],
    load_end_s: float,
    baseline_check: BaselineCheck | None = None,
    stops: Sequence[StopRecord] = (),
    reference: ReferenceRun | None = None,
    integrity: IntegrityReport | None = None,
) -> Scored:
    slos = tuple(evaluate_slo(slo, timeline, phases, reference) for slo in experiment.slos)
    if experiment.storefront.integrity:  # lost == 0, duplicated == 0
        slos += integrity_slos(integrity)
    card, verdict = score_card(slos, experiment.scoring)
    matrix, impacts = resiliency_matrix(experiment, timeline, phases, load_end_s, reference)
    return Scored(
        slos=slos,
        verdict=verdict,
        score=card,
        matrix=matrix,
        fault_impacts=impacts,
        outcome=outcome_of(status, verdict, baseline_check, stops),
    )


def with_spec(ran: Experiment, spec: Experiment) -> Experiment:
    """The experiment that ran, judged by `spec`: its SLOs, stop conditions and scoring settings.

    Load and faults stay those of the run: they describe what happened, not what is judged.
    """
    return ran.model_copy(
        update={
            "slos": spec.slos,
            "stop_conditions": spec.stop_conditions,
            "scoring": spec.scoring,
        }
    )


def spec_differences(ran: Experiment, spec: Experiment) -> list[str]:
    """What in `spec` differs from the run beyond what re-scoring uses, for a warning."""
    notes = []
    if spec.load != ran.load:
        notes.append("load")
    if spec.faults != ran.faults:
        notes.append("faults")
    return notes


def rescore(
    result: Result, spec: Experiment | None = None, reference: ReferenceRun | None = None
) -> Result:
    """The saved result judged again (with `spec`'s SLOs and settings when given)."""
    experiment = with_spec(result.experiment, spec) if spec is not None else result.experiment
    load_end_s = (
        result.run.load_ended_s if result.run.load_ended_s is not None else experiment.load.duration
    )
    scored = score_timeline(
        experiment,
        result.run.status,
        result.timeline,
        result.phases,
        load_end_s,
        result.baseline_check,
        result.stops,
        reference,
        result.integrity,
    )
    return result.model_copy(
        update={
            "experiment": experiment,
            "slos": scored.slos,
            "verdict": scored.verdict,
            "score": scored.score,
            "matrix": scored.matrix,
            "fault_impacts": scored.fault_impacts,
            "outcome": scored.outcome,
            "reference": reference.info if reference is not None else None,
        }
    )
