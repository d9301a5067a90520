"""Applies and removes scheduled faults, remembering what is active.

Network faults go through a ToxiproxyApi, service faults (kill, stop, pause, restart) through
the platform's ServiceController, service-level faults (`behaviour`) through ServiceBehaviours.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from peakday.errors import UsageError
from peakday.experiment.models import Fault
from peakday.faults.plan import toxic_name
from peakday.faults.service_level import (
    ServiceBehaviours,
    behaviour_fault_id,
    behaviour_request,
)
from peakday.faults.services import ServiceController, apply_action, revert_action
from peakday.faults.toxiproxy import ToxicSpec, ToxiproxyApi
from peakday.results.events import FaultApplied, FaultFailed, FaultRemoved

log = logging.getLogger(__name__)


FaultEvent = FaultApplied | FaultRemoved | FaultFailed


class FaultInjector:
    def __init__(
        self,
        api: ToxiproxyApi,
        faults: Sequence[Fault],
        record: Callable[[FaultEvent], None],
        clock: Callable[[], float] = time.time,
        services: ServiceController | None = None,
        behaviours: ServiceBehaviours | None = None,
    ) -> None:
        self._api = api
        self._services = services
        self._behaviours = behaviours
        self._faults = faults
        self._record = record
        self._clock = clock
        self._active: set[int] = set()

    @property
    def active(self) -> frozenset[int]:
        return frozenset(self._active)

    def apply(self, index: int) -> None:
        fault = self._faults[index]
        if fault.is_behaviour_fault:
            assert fault.service is not None
            self._behaviour_controller(fault).switch_on(
                fault.service, behaviour_fault_id(index, fault), behaviour_request(fault)
            )
        elif fault.is_service_fault:
            assert fault.service is not None and fault.action is not None
            apply_action(self._service_controller(fault), fault.action, fault.service)
        elif fault.toxic is None or fault.proxy is None:
            raise UsageError(f"The fault {fault.label!r} names no proxy or no toxic.")
        elif fault.toxic == "down":
            self._api.set_enabled(fault.proxy, False)
        else:
            self._api.add_toxic(
                fault.proxy,
                ToxicSpec(
                    name=toxic_name(index, fault),
                    type=fault.toxic,
                    stream=fault.stream,
                    toxicity=fault.toxicity,
                    attributes={k: _number(v) for k, v in fault.attributes.items()},
                ),
            )
        self._active.add(index)
        self._record(FaultApplied(fault_index=index, wall=self._clock()))

    def remove(self, index: int) -> None:
        if index not in self._active:
            return
        fault = self._faults[index]
        if fault.is_behaviour_fault:
            assert fault.service is not None
            self._behaviour_controller(fault).switch_off(
                fault.service, behaviour_fault_id(index, fault)
            )
        elif fault.is_service_fault:
            assert fault.service is not None and fault.action is not None
            revert_action(self._service_controller(fault), fault.action, fault.service)
        elif fault.proxy is None:
            pass  # never applied: apply() refuses such a fault
        elif fault.toxic == "down":
            self._api.set_enabled(fault.proxy, True)
        else:
            self._api.remove_toxic(fault.proxy, toxic_name(index, fault))
        self._active.discard(index)
        self._record(FaultRemoved(fault_index=index, wall=self._clock()))

    def _service_controller(self, fault: Fault) -> ServiceController:
        if self._services is None:
            raise UsageError(
                f"The fault {fault.label!r} acts on service {fault.service!r}, but this platform "
                "cannot control services. Hint: use platform local or docker for service faults."
            )
        return self._services

    def _behaviour_controller(self, fault: Fault) -> ServiceBehaviours:
        if self._behaviours is None:
            raise UsageError(
                f"The fault {fault.label!r} is played by service {fault.service!r}, but this "
                "platform has no admin endpoints. Hint: use platform local or docker."
            )
        return self._behaviours

    def rollback_all(self) -> None:
        """Remove every active fault: services first, each on its own (one failing does not
        keep the others down); toxics after, falling back to a full Toxiproxy reset on error."""
        for index in sorted(self._active):
            fault = self._faults[index]
            if fault.is_service_fault or fault.is_behaviour_fault:
                try:
                    self.remove(index)
                except Exception as exc:
                    log.error("undoing service fault %d failed: %s", index, exc)
                    self._active.discard(index)
                    self._record(
                        FaultFailed(fault_index=index, wall=self._clock(), detail=str(exc))
                    )
        for index in sorted(self._active):
            try:
                self.remove(index)
            except Exception as exc:
                log.warning("removing fault %d failed (%s); resetting Toxiproxy", index, exc)
                self._api.reset()
                now = self._clock()
                for left in sorted(self._active):
                    self._record(FaultRemoved(fault_index=left, wall=now, detail="reset"))
                self._active.clear()
                return


def _number(value: float) -> float | int:
    # Toxiproxy's Go API rejects 100.0 where it expects an integer field.
    return int(value) if float(value).is_integer() else value
