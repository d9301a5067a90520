"""Phases of a run from its fault schedule (pure)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from peakday.results.model import AppliedFault, PhaseWindow, TimelineRow


def fault_window(fault: AppliedFault, load_end_s: float) -> tuple[float, float]:
    """What happened when known, else what was planned; an unremoved fault lasts to the end."""
    start = fault.applied_at_s if fault.applied_at_s is not None else fault.planned_at_s
    if fault.removed_at_s is not None:
        end = fault.removed_at_s
    elif fault.applied_at_s is not None:
        end = load_end_s
    else:
        end = fault.planned_end_s
    return start, max(start, end)


def compute_phases(
    warmup_s: float, duration_s: float, faults: Sequence[AppliedFault]
) -> tuple[PhaseWindow, ...]:
    phases: list[PhaseWindow] = []
    if warmup_s > 0:
        phases.append(PhaseWindow(name="warmup", kind="warmup", start_s=0.0, end_s=warmup_s))
    # A skipped fault (baseline not met, stop condition) never happened: it has no window.
    faults = [f for f in faults if f.skipped is None]
    windows = [fault_window(f, duration_s) for f in faults]
    first_fault = min((start for start, _ in windows), default=duration_s)
    last_fault_end = max((end for _, end in windows), default=None)
    if first_fault > warmup_s:
        phases.append(
            PhaseWindow(name="baseline", kind="baseline", start_s=warmup_s, end_s=first_fault)
        )
    for fault, (start, end) in zip(faults, windows, strict=True):
        phases.append(
            PhaseWindow(name=f"fault:{fault.label}", kind="fault", start_s=start, end_s=end)
        )
    if last_fault_end is not None and last_fault_end < duration_s:
        phases.append(
            PhaseWindow(name="recovery", kind="recovery", start_s=last_fault_end, end_s=duration_s)
        )
    phases.append(PhaseWindow(name="all", kind="all", start_s=warmup_s, end_s=duration_s))
    return tuple(phases)


def seconds_of(windows: Sequence[PhaseWindow]) -> list[int]:
    """The whole seconds belonging to the windows (by their middle), in order."""
    found: set[int] = set()
    for window in windows:
        first = math.ceil(window.start_s - 0.5)
        last = math.ceil(window.end_s - 0.5) - 1
        found.update(range(first, last + 1))
    return sorted(found)


def windows_for(phase: str, phases: Sequence[PhaseWindow]) -> tuple[PhaseWindow, ...]:
    """The windows an SLO's `phase` names: 'fault' is the union of every fault window,
    'each-fault' every fault window (judged apart), 'fault:NAME' that fault's window."""
    if phase in ("fault", "each-fault"):
        return tuple(p for p in phases if p.kind == "fault")
    return tuple(p for p in phases if p.name == phase)


def phase_kind(phase: str) -> str:
    """The kind of phase an SLO's `phase` judges: 'fault' for every fault form."""
    if phase == "each-fault" or phase.startswith("fault:"):
        return "fault"
    return phase


def in_windows(t_s: int, windows: Iterable[PhaseWindow]) -> bool:
    """A second belongs to the window that holds its middle."""
    middle = t_s + 0.5
    return any(w.start_s <= middle < w.end_s for w in windows)


def rows_in(
    rows: Iterable[TimelineRow], step: str, windows: Sequence[PhaseWindow]
) -> list[TimelineRow]:
    return [r for r in rows if r.name == step and in_windows(r.t_s, windows)]


def seconds_covered(windows: Sequence[PhaseWindow]) -> float:
    """Length of the union of windows, in seconds."""
    spans = sorted((w.start_s, w.end_s) for w in windows)
    total, current_start, current_end = 0.0, None, None
    for start, end in spans:
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None and current_start is not None:
        total += current_end - current_start
    return total
