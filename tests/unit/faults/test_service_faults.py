from __future__ import annotations

import pytest

from peakday.errors import UsageError
from peakday.experiment.models import Fault
from peakday.faults.injector import FaultEvent, FaultInjector
from peakday.faults.plan import plan_actions
from unit.faults.test_plan_and_injector import FakeToxiproxy


class FakeServices:
    """The ServiceController seam: records calls; can be told to fail one of them."""

    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = fail

    def _do(self, action: str, service: str) -> None:
        if action == self.fail:
            raise RuntimeError(f"cannot {action}")
        self.calls.append((action, service))

    def kill(self, service: str) -> None:
        self._do("kill", service)

    def stop(self, service: str) -> None:
        self._do("stop", service)

    def start(self, service: str) -> None:
        self._do("start", service)

    def pause(self, service: str) -> None:
        self._do("pause", service)

    def unpause(self, service: str) -> None:
        self._do("unpause", service)

    def restart(self, service: str) -> None:
        self._do("restart", service)


def service_fault(action: str, service: str = "auth", at: float = 5, duration: float = 3) -> Fault:
    return Fault.model_validate(
        {"at": at, "duration": duration, "service": service, "action": action}
    )


@pytest.mark.parametrize(
    ("action", "applied", "reverted"),
    [
        ("kill", ["kill"], ["start"]),
        ("stop", ["stop"], ["start"]),
        ("pause", ["pause"], ["unpause"]),
        ("restart", ["restart"], []),
    ],
    ids=["kill-then-start", "stop-then-start", "pause-then-unpause", "restart-only"],
)
def test_service_fault_applies_its_action_and_reverts_at_the_end(
    action: str, applied: list[str], reverted: list[str]
) -> None:
    services = FakeServices()
    events: list[FaultEvent] = []
    injector = FaultInjector(
        FakeToxiproxy(),
        [service_fault(action)],
        events.append,
        clock=lambda: 1.0,
        services=services,
    )
    injector.apply(0)
    assert [call for call, _ in services.calls] == applied
    injector.remove(0)
    assert [call for call, _ in services.calls] == applied + reverted
    assert all(service == "auth" for _, service in services.calls)
    assert [e.kind for e in events] == ["fault_applied", "fault_removed"]


def test_service_fault_label_and_plan_time_like_toxics() -> None:
    fault = service_fault("kill", at=10, duration=4)
    assert fault.label == "kill@auth" and fault.is_service_fault
    actions = plan_actions([fault])
    assert [(a.at_s, a.kind) for a in actions] == [(10, "apply"), (14, "remove")]


def test_a_platform_without_service_control_refuses_service_faults() -> None:
    injector = FaultInjector(FakeToxiproxy(), [service_fault("kill")], lambda e: None)
    with pytest.raises(UsageError, match="cannot control services"):
        injector.apply(0)


def test_rollback_restarts_services_even_when_toxic_removal_fails() -> None:
    api = FakeToxiproxy(fail_remove=True)
    services = FakeServices()
    latency = Fault.model_validate(
        {"at": 1, "duration": 9, "proxy": "auth_login", "toxic": "latency",
         "attributes": {"latency": 100}}
    )  # fmt: skip
    events: list[FaultEvent] = []
    injector = FaultInjector(
        api, [latency, service_fault("pause")], events.append, services=services
    )
    injector.apply(0)
    injector.apply(1)
    injector.rollback_all()
    assert services.calls == [("pause", "auth"), ("unpause", "auth")]
    assert api.resets == 1
    assert injector.active == frozenset()


def test_a_failing_revert_is_recorded_and_does_not_stop_the_other_rollbacks() -> None:
    services = FakeServices(fail="start")
    events: list[FaultEvent] = []
    injector = FaultInjector(
        FakeToxiproxy(),
        [service_fault("kill"), service_fault("pause", service="labels")],
        events.append,
        services=services,
    )
    injector.apply(0)
    injector.apply(1)
    injector.rollback_all()
    assert ("unpause", "labels") in services.calls
    assert [e.kind for e in events][-2:] == ["fault_failed", "fault_removed"]
    assert injector.active == frozenset()
