"""Everything scoring adds to a result, from the saved timeline alone (pure).

`assemble_result` calls `score_timeline` after a run; `rescore` re-judges a saved result,
optionally with another spec's SLOs and scoring settings (`peakday score RESULT --spec FILE`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from peakday.experiment.models import Experiment
from peakday.integrity.model import IntegrityReport
from peakday.results.loadhealth import LoadHealth
from peakday.results.model import (
    AlertTiming,
    AppliedFault,
    BaselineCheck,
    FaultImpact,
    PhaseWindow,
    ResiliencyMatrix,
    Result,
    ScoreCard,
    SloResult,
    StopRecord,
    TimelineRow,
    Verdict,
)
from peakday.results.outcome import Outcome, RunStatus
from peakday.results.reference import ReferenceRun
from peakday.results.traffic import FaultReach, Traffic
from peakday.scoring.alert_checks import alert_slos
from peakday.scoring.integrity_slos import integrity_slos
from peakday.scoring.matrix import resiliency_matrix
from peakday.scoring.reach import fault_reach, reach_reason, unreached
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
    fault_reach: tuple[FaultReach, ...] = ()


def judge(
    status: RunStatus,
    verdict: Verdict,
    baseline_check: BaselineCheck | None,
    stops: Sequence[StopRecord],
    load_health: LoadHealth | None,
    reach: Sequence[FaultReach] = (),
) -> tuple[Verdict, Outcome]:
    """The one outcome rule: the SLOs' verdict and the run's outcome, in order of precedence.

    Every verdict peakday gives (a run, `score`, `assemble`, `report`, the pytest plugin) comes
    from here; the exit code follows from the outcome (results.outcome.exit_code_for). A saturated
    load generator's numbers are no evidence either way, so such a run is inconclusive; nor is a
    fault that reached no traffic, or whose traffic was not measured (scoring.reach): whatever the
    SLOs say, they did not see that fault.
    """
    if status in ("interrupted", "error"):
        return verdict, status
    if baseline_check is not None and not baseline_check.met and not baseline_check.continued:
        return verdict, "baseline-not-met"
    if stops:
        return verdict, "aborted"
    if load_health is not None and not load_health.trusted:
        return "inconclusive", "inconclusive"
    if unreached(reach):
        return "inconclusive", "inconclusive"
    return verdict, verdict


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
    load_health: LoadHealth | None = None,
    faults: Sequence[AppliedFault] = (),
    traffic: Traffic | None = None,
    server_timeline: Sequence[TimelineRow] = (),
    alerts: Sequence[AlertTiming] = (),
    alert_readings: int = 0,
) -> Scored:
    # server-side series are judged like client-side ones, from the same kind of rows
    rows = (*timeline, *server_timeline) if server_timeline else timeline
    slos = tuple(evaluate_slo(slo, rows, phases, reference) for slo in experiment.slos)
    if experiment.storefront.integrity:  # lost == 0, duplicated == 0
        slos += integrity_slos(integrity)
    slos += alert_slos(experiment, alerts, alert_readings)
    card, slo_verdict = score_card(slos, experiment.scoring)
    matrix, impacts = resiliency_matrix(
        experiment, timeline, phases, load_end_s, reference, server_timeline
    )
    reach = fault_reach(faults, timeline, traffic, load_end_s)
    verdict, outcome = judge(status, slo_verdict, baseline_check, stops, load_health, reach)
    if outcome == "inconclusive" and unreached(reach):
        card = card.model_copy(
            update={"reason": f"{reach_reason(reach)} Without that fault: {card.reason}"}
        )
    return Scored(
        slos=slos,
        verdict=verdict,
        score=card,
        matrix=matrix,
        fault_impacts=impacts,
        outcome=outcome,
        fault_reach=reach,
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
            "alerts": spec.alerts,
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
        result.load_health,
        result.faults,
        result.traffic,
        result.server_timeline,
        result.alerts,
        result.alert_readings,
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
            "fault_reach": scored.fault_reach,
            "reference": reference.info if reference is not None else None,
        }
    )
