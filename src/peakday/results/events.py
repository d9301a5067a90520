"""The run's event log as typed records: what happened, when (wall clock), in events.jsonl.

Every event is written the moment it happens (see eventlog.EventLog), and `result.json` is
assembled from these records and metrics.jsonl alone, so a killed run can still be scored.
Unknown kinds (a newer writer) and torn lines (a killed writer) are skipped when reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from peakday.experiment.models import Experiment
from peakday.integrity.model import IntegrityReport
from peakday.results.model import BaselineCheck, StopRecord
from peakday.results.outcome import RunStatus


class _Event(BaseModel):
    # extra="ignore": fields a newer peakday adds do not make an older one drop the event.
    model_config = ConfigDict(frozen=True, extra="ignore")

    wall: float  # time.time() when it happened


class RunStarted(_Event):
    kind: Literal["run_started"] = "run_started"
    run_id: str
    experiment: Experiment
    platform: str = ""
    peakday_version: str = ""
    # peakday, python, machine, host, and the storefront's resilience knobs
    environment: dict[str, str] = Field(default_factory=dict)


class PlatformReady(_Event):
    kind: Literal["platform_ready"] = "platform_ready"
    toxiproxy_api: str
    toxiproxy_version: str = ""
    services: dict[str, str] = Field(default_factory=dict)
    proxies: dict[str, str] = Field(default_factory=dict)


class LoadStarted(_Event):
    """t = 0 of the run: every load time (t_s, fault times) counts from here."""

    kind: Literal["load_started"] = "load_started"


class _FaultEvent(_Event):
    fault_index: int  # into the experiment's faults
    detail: str = ""


class FaultApplied(_FaultEvent):
    kind: Literal["fault_applied"] = "fault_applied"


class FaultRemoved(_FaultEvent):
    kind: Literal["fault_removed"] = "fault_removed"
    # detail "reset": removed by resetting Toxiproxy after removing it failed


class FaultFailed(_FaultEvent):
    """Undoing the fault failed (detail: why); it is no longer tracked as active."""

    kind: Literal["fault_failed"] = "fault_failed"


class BaselineChecked(_Event):
    kind: Literal["baseline_checked"] = "baseline_checked"
    check: BaselineCheck


class StopConditionFired(_Event):
    kind: Literal["stop_condition_fired"] = "stop_condition_fired"
    record: StopRecord


class FaultsSkipped(_Event):
    kind: Literal["faults_skipped"] = "faults_skipped"
    fault_indices: tuple[int, ...]
    reason: str = "skipped"


class RunStoppedEarly(_Event):
    kind: Literal["run_stopped_early"] = "run_stopped_early"
    reason: str = ""


class TeardownError(_Event):
    kind: Literal["teardown_error"] = "teardown_error"
    step: str
    error: str


class ToxicsAfterRollback(_Event):
    """What Toxiproxy still held after the rollback (should be nothing)."""

    kind: Literal["toxics_after_rollback"] = "toxics_after_rollback"
    toxics: dict[str, list[str]] = Field(default_factory=dict)


class IntegrityChecked(_Event):
    kind: Literal["integrity_checked"] = "integrity_checked"
    report: IntegrityReport


class RunEnded(_Event):
    kind: Literal["run_ended"] = "run_ended"
    status: RunStatus
    error: str | None = None


Event = Annotated[
    RunStarted
    | PlatformReady
    | LoadStarted
    | FaultApplied
    | FaultRemoved
    | FaultFailed
    | BaselineChecked
    | StopConditionFired
    | FaultsSkipped
    | RunStoppedEarly
    | TeardownError
    | ToxicsAfterRollback
    | IntegrityChecked
    | RunEnded,
    Field(discriminator="kind"),
]

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def event_from_record(record: Mapping[str, Any]) -> Event | None:
    """The typed event of one JSON record; None for a kind this version does not know or a
    record that does not fit its kind."""
    try:
        return _EVENT.validate_python(record)
    except ValidationError:
        return None


def events_from_records(records: Iterable[Mapping[str, Any]]) -> tuple[Event, ...]:
    return tuple(event for record in records if (event := event_from_record(record)) is not None)
