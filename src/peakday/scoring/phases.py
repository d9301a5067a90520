"""Phases of a run from its fault schedule (pure)."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import cast

from peakday.results.columns import CompactTimeline
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


def in_flight_cutoff(rows: Iterable[TimelineRow], start_s: float, fault_start_s: float) -> float:
    """Where the baseline ends so that none of its requests was still running at the fault.

    Rows count requests by the second they started in, so the baseline's last seconds can hold
    requests the fault reached while they were in flight: a login started 0.2 s before a hang
    fails 4 s later, inside the fault, and would count as a baseline failure (and its latency
    as the baseline's). Walking back from the fault, a second is left out while its slowest
    request, if started at the end of the second, would have ended after the fault began; the
    first second whose requests all ended before the fault is where the baseline stops. An
    isolated slow request further back stays in: only the run of seconds right before the
    fault is cut. Rows without a maximum (older results) leave the baseline as it was.
    """
    first = math.ceil(start_s - 0.5)
    last = math.ceil(fault_start_s - 0.5) - 1  # the last second whose middle is before the fault
    if last < first:
        return fault_start_s
    slowest: dict[int, float] = {}
    for row in rows:
        if first <= row.t_s <= last and row.requests > 0 and row.max_ms is not None:
            slowest[row.t_s] = max(slowest.get(row.t_s, 0.0), row.max_ms)
    end = fault_start_s
    for t_s in range(last, first - 1, -1):
        slowest_ms = slowest.get(t_s)
        if slowest_ms is None or t_s + 1 + slowest_ms / 1000.0 <= fault_start_s:
            break
        end = float(t_s)
    return end


def _baseline(
    warmup_s: float, first_fault_s: float, rows: Iterable[TimelineRow], has_faults: bool
) -> PhaseWindow | None:
    if first_fault_s <= warmup_s:
        return None
    end = in_flight_cutoff(rows, warmup_s, first_fault_s) if has_faults else first_fault_s
    note = ""
    if end < first_fault_s:
        note = (
            f"ends {first_fault_s - end:.2f} s before the first fault: requests started after "
            f"{end:.2f} s were still running when it began, so they count in no phase but 'all'"
        )
    if end <= warmup_s:
        return None
    return PhaseWindow(name="baseline", kind="baseline", start_s=warmup_s, end_s=end, note=note)


def compute_phases(
    warmup_s: float,
    duration_s: float,
    faults: Sequence[AppliedFault],
    rows: Iterable[TimelineRow] = (),
) -> tuple[PhaseWindow, ...]:
    """`rows`: the run's timeline, to end the baseline before requests the fault reached."""
    phases: list[PhaseWindow] = []
    if warmup_s > 0:
        phases.append(PhaseWindow(name="warmup", kind="warmup", start_s=0.0, end_s=warmup_s))
    # A skipped fault (baseline not met, stop condition) never happened: it has no window.
    faults = [f for f in faults if f.skipped is None]
    windows = [fault_window(f, duration_s) for f in faults]
    first_fault = min((start for start, _ in windows), default=duration_s)
    last_fault_end = max((end for _, end in windows), default=None)
    baseline = _baseline(warmup_s, first_fault, rows, bool(windows))
    if baseline is not None:
        phases.append(baseline)
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
    return list(rows_where(rows, (step,), lambda t_s: in_windows(t_s, windows)))


def rows_where(
    rows: Iterable[TimelineRow], steps: Collection[str], keep: Callable[[int], bool] | None = None
) -> Iterator[TimelineRow]:
    """The rows of `steps` whose second passes `keep` (every second by default). A timeline
    read from disk (CompactTimeline) builds only those rows from its columns."""
    wanted = keep or _every_second
    if isinstance(rows, CompactTimeline):
        return rows.where(steps, wanted)
    return (r for r in rows if r.name in steps and wanted(r.t_s))


def step_ints(rows: Iterable[TimelineRow], step: str, field: str) -> list[int]:
    """An integer field (`t_s`, `requests`...) of step `step`'s rows, in order; read from a
    CompactTimeline's column without building a row."""
    return cast(list[int], _step_values(rows, step, field))


def step_floats(rows: Iterable[TimelineRow], step: str, field: str) -> list[float | None]:
    """A float field (`p95_ms`...) of step `step`'s rows, in order, as `step_ints`."""
    return cast(list[float | None], _step_values(rows, step, field))


def step_kinds(rows: Iterable[TimelineRow], step: str) -> list[dict[str, int]]:
    """Each of step `step`'s rows' failures by kind, in order, as `step_ints`."""
    return cast(list[dict[str, int]], _step_values(rows, step, "failures_by_kind"))


def _step_values(rows: Iterable[TimelineRow], step: str, field: str) -> list[object]:
    if isinstance(rows, CompactTimeline):
        return rows.values(step, field)
    return [getattr(row, field) for row in rows if row.name == step]


def step_names(rows: Iterable[TimelineRow]) -> set[str]:
    """The step names in the rows (from a CompactTimeline's columns, building no row)."""
    if isinstance(rows, CompactTimeline):
        return set(rows.names)
    return {row.name for row in rows}


def last_second(rows: Iterable[TimelineRow]) -> int | None:
    """The latest second in the rows (from a CompactTimeline's columns, building no row)."""
    if isinstance(rows, CompactTimeline):
        return rows.last_second
    return max((row.t_s for row in rows), default=None)


def _every_second(_t_s: int) -> bool:
    return True


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
