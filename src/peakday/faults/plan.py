"""Fault schedule -> ordered, timed actions (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from peakday.experiment.models import Fault


@dataclass(frozen=True)
class FaultAction:
    at_s: float
    kind: Literal["apply", "remove"]
    fault_index: int


def plan_actions(faults: Sequence[Fault]) -> tuple[FaultAction, ...]:
    """Every apply and remove in time order; at equal times removals go first."""
    actions = [FaultAction(f.at, "apply", i) for i, f in enumerate(faults)]
    actions += [FaultAction(f.end, "remove", i) for i, f in enumerate(faults)]
    return tuple(sorted(actions, key=lambda a: (a.at_s, a.kind != "remove", a.fault_index)))


def toxic_name(index: int, fault: Fault) -> str:
    """A name that is unique per fault and recognisable as peakday's in `toxiproxy-cli list`."""
    return f"peakday-{index}-{fault.toxic}-{fault.stream}"
