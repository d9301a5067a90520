from __future__ import annotations

import pytest

from peakday.errors import ToxiproxyError
from peakday.experiment.models import Fault
from peakday.faults.injector import FaultEvent, FaultInjector
from peakday.faults.plan import plan_actions, toxic_name
from peakday.faults.toxiproxy import ToxicSpec


def fault(at: float, duration: float, toxic: str = "latency", proxy: str = "auth_login") -> Fault:
    attributes = {"latency": 100.0} if toxic == "latency" else {}
    return Fault.model_validate(
        {"at": at, "duration": duration, "proxy": proxy, "toxic": toxic, "attributes": attributes}
    )


class FakeToxiproxy:
    """The ToxiproxyApi seam, in memory."""

    def __init__(self, fail_remove: bool = False) -> None:
        self.toxics: dict[str, dict[str, ToxicSpec]] = {"auth_login": {}, "auth_introspect": {}}
        self.disabled: set[str] = set()
        self.fail_remove = fail_remove
        self.resets = 0

    def version(self) -> str:
        return "fake"

    def create_proxy(self, name: str, listen: str, upstream: str) -> str:
        self.toxics[name] = {}
        return listen

    def add_toxic(self, proxy: str, toxic: ToxicSpec) -> None:
        self.toxics[proxy][toxic.name] = toxic

    def remove_toxic(self, proxy: str, toxic_name: str) -> None:
        if self.fail_remove:
            raise ToxiproxyError("API timed out")
        del self.toxics[proxy][toxic_name]

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        (self.disabled.discard if enabled else self.disabled.add)(proxy)

    def reset(self) -> None:
        self.resets += 1
        self.disabled.clear()
        for toxics in self.toxics.values():
            toxics.clear()

    def active_toxics(self) -> dict[str, list[str]]:
        return {
            proxy: sorted(t) + (["disabled"] if proxy in self.disabled else [])
            for proxy, t in self.toxics.items()
        }


def test_actions_are_in_time_order_with_removals_first_at_equal_times() -> None:
    actions = plan_actions([fault(10, 5), fault(15, 5), fault(2, 1)])
    assert [(a.at_s, a.kind, a.fault_index) for a in actions] == [
        (2, "apply", 2),
        (3, "remove", 2),
        (10, "apply", 0),
        (15, "remove", 0),
        (15, "apply", 1),
        (20, "remove", 1),
    ]


def test_injector_applies_toxic_with_integer_attributes_and_removes_it() -> None:
    api = FakeToxiproxy()
    events: list[FaultEvent] = []
    faults = [fault(1, 2)]
    injector = FaultInjector(api, faults, events.append, clock=lambda: 42.0)
    injector.apply(0)
    name = toxic_name(0, faults[0])
    assert api.toxics["auth_login"][name].attributes == {"latency": 100}
    assert isinstance(api.toxics["auth_login"][name].attributes["latency"], int)
    injector.remove(0)
    assert api.toxics["auth_login"] == {}
    assert [e.kind for e in events] == ["fault_applied", "fault_removed"]


def test_down_disables_and_reenables_the_proxy() -> None:
    api = FakeToxiproxy()
    injector = FaultInjector(api, [fault(1, 2, toxic="down")], lambda e: None)
    injector.apply(0)
    assert api.disabled == {"auth_login"}
    injector.rollback_all()
    assert api.disabled == set()


def test_rollback_falls_back_to_reset_when_removal_fails() -> None:
    api = FakeToxiproxy(fail_remove=True)
    events: list[FaultEvent] = []
    injector = FaultInjector(
        api, [fault(1, 2), fault(1, 2, proxy="auth_introspect")], events.append
    )
    injector.apply(0)
    injector.apply(1)
    injector.rollback_all()
    assert api.resets == 1
    assert all(not names for names in api.active_toxics().values())
    assert injector.active == frozenset()
    assert sorted(e.fault_index for e in events if e.kind == "fault_removed") == [0, 1]


def test_removing_a_fault_that_is_not_active_does_nothing() -> None:
    api = FakeToxiproxy()
    events: list[FaultEvent] = []
    FaultInjector(api, [fault(1, 2)], events.append).remove(0)
    assert events == []


@pytest.mark.parametrize("value,expected", [(100.0, 100), (0.5, 0.5)], ids=["whole", "fraction"])
def test_attribute_numbers_keep_fractions(value: float, expected: float) -> None:
    from peakday.faults.injector import _number

    assert _number(value) == expected
