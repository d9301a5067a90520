"""SLOs judged window by window (pure): every fault window apart (`phase: each-fault`), every
rolling window of `window` seconds, and the share of windows (or seconds) that must meet the
objective (`within`). How a value is measured and judged comes in as two functions, so this
module knows windows only; scoring/slo.py supplies them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from peakday.results.model import PhaseWindow, SloVerdict, WindowValue
from peakday.scoring.phases import seconds_of, windows_for

# The value over some windows, or None with the reason there is none.
Measure = Callable[[Sequence[PhaseWindow]], tuple[float | None, str]]
# Whether a value meets an objective; None when there is nothing to compare it with.
Holds = Callable[[float], bool | None]


@dataclass(frozen=True)
class WindowRule:
    """How an SLO is cut into windows."""

    phase: str
    window_s: float | None  # rolling window length; None: the phase window (or seconds) whole
    within: float | None  # share that must meet the objective; None: every one


@dataclass(frozen=True)
class Unit:
    """One judged span and what was measured over it."""

    phase: str
    start_s: float
    end_s: float
    value: float | None
    met: bool | None
    warned: bool | None  # meets the warning objective


@dataclass(frozen=True)
class Group:
    """One fault window with `each-fault`, else the SLO's whole phase: its units judged."""

    phase: str
    start_s: float
    end_s: float
    units: tuple[Unit, ...]
    verdict: SloVerdict
    worst: Unit | None
    met_share: float | None
    why_missing: str


@dataclass(frozen=True)
class Windowed:
    verdict: SloVerdict
    worst: Unit | None
    met_share: float | None
    judged: int
    groups: tuple[Group, ...]
    why_missing: str


def groups_of(phase: str, phases: Sequence[PhaseWindow]) -> list[tuple[str, list[PhaseWindow]]]:
    """Each fault window alone for 'each-fault'; otherwise the phase's windows, touching ones
    merged, as one group (rolling windows run across back-to-back faults)."""
    windows = windows_for(phase, phases)
    if phase == "each-fault":
        return [(w.name, [w]) for w in windows]
    return [(phase, merge_touching(windows))] if windows else []


def merge_touching(windows: Sequence[PhaseWindow]) -> list[PhaseWindow]:
    merged: list[PhaseWindow] = []
    for window in sorted(windows, key=lambda w: (w.start_s, w.end_s)):
        if merged and window.start_s <= merged[-1].end_s:
            last = merged[-1]
            end_s = max(last.end_s, window.end_s)
            merged[-1] = last.model_copy(update={"end_s": end_s})
        else:
            merged.append(window)
    return merged


def spans_of(window: PhaseWindow, rule: WindowRule) -> list[PhaseWindow]:
    """The spans judged inside one window: rolling windows one second apart, seconds, or the
    window whole when there is no `window` and no `within` (or the window is shorter)."""
    if rule.window_s is None and rule.within is None:
        return [window]
    length = round(rule.window_s) if rule.window_s is not None else 1
    seconds = seconds_of([window])
    if len(seconds) <= length:
        return [window]
    return [
        PhaseWindow(name=window.name, kind=window.kind, start_s=float(s), end_s=float(s + length))
        for s in seconds[: len(seconds) - length + 1]
    ]


def _worst(units: Sequence[Unit], upper: bool) -> Unit | None:
    """The unit furthest on the wrong side: the highest for '<' objectives, else the lowest;
    the earliest on a tie."""
    valued = [u for u in units if u.value is not None]
    if not valued:
        return None
    pick = max if upper else min
    target = pick(u.value for u in valued if u.value is not None)
    return next(u for u in valued if u.value == target)


def _passes(flags: Sequence[bool | None], within: float | None) -> bool | None:
    if any(flag is None for flag in flags):
        return None
    met = sum(1 for flag in flags if flag)
    if within is None:
        return met == len(flags)
    return met / len(flags) >= within - 1e-9


def judge_group(
    label: str,
    windows: Sequence[PhaseWindow],
    rule: WindowRule,
    measure: Measure,
    holds: Holds,
    warning: Holds | None,
    upper: bool,
) -> Group:
    units: list[Unit] = []
    why_missing = ""
    for window in windows:
        for span in spans_of(window, rule):
            value, why = measure([span])
            met = holds(value) if value is not None else None
            warned = warning(value) if value is not None and warning is not None else None
            units.append(Unit(label, span.start_s, span.end_s, value, met, warned))
            why_missing = why_missing or why
    start_s = min(w.start_s for w in windows)
    end_s = max(w.end_s for w in windows)
    valued = [u for u in units if u.value is not None]
    worst = _worst(valued, upper)
    if not valued:
        return Group(label, start_s, end_s, tuple(units), "inconclusive", None, None, why_missing)
    met_flags = [u.met for u in valued]
    share = (
        sum(1 for f in met_flags if f) / len(met_flags)
        if all(f is not None for f in met_flags)
        else None
    )
    main = _passes(met_flags, rule.within)
    verdict: SloVerdict
    if main is None:
        verdict = "inconclusive"
    elif main:
        verdict = "pass"
    elif warning is not None and _passes([u.warned for u in valued], rule.within):
        verdict = "warn"
    else:
        verdict = "fail"
    return Group(label, start_s, end_s, tuple(units), verdict, worst, share, why_missing)


def judge_windows(
    rule: WindowRule,
    phases: Sequence[PhaseWindow],
    measure: Measure,
    holds: Holds,
    warning: Holds | None,
    upper: bool,
) -> Windowed:
    """Every group judged; the SLO's verdict is the worst group's (a fail wins over missing
    data, missing data over a pass), its value the worst unit's of all."""
    groups = tuple(
        judge_group(label, windows, rule, measure, holds, warning, upper)
        for label, windows in groups_of(rule.phase, phases)
    )
    if not groups:
        return Windowed("inconclusive", None, None, 0, (), "the phase did not happen in this run")
    verdicts = {g.verdict for g in groups}
    verdict: SloVerdict = next(v for v in ("fail", "inconclusive", "warn", "pass") if v in verdicts)
    worst = _worst([g.worst for g in groups if g.worst is not None], upper)
    shares = [g.met_share for g in groups if g.met_share is not None]
    judged = sum(1 for g in groups for u in g.units if u.value is not None)
    missing = next((g.why_missing for g in groups if g.verdict == "inconclusive"), "")
    return Windowed(verdict, worst, min(shares, default=None), judged, groups, missing)


def window_value(unit: Unit) -> WindowValue:
    return WindowValue(
        phase=unit.phase,
        start_s=round(unit.start_s, 3),
        end_s=round(unit.end_s, 3),
        value=unit.value,
        met=unit.met,
    )


def group_value(group: Group, rolling: bool) -> WindowValue:
    worst = group.worst
    return WindowValue(
        phase=group.phase,
        start_s=round(group.start_s, 3),
        end_s=round(group.end_s, 3),
        value=worst.value if worst is not None else None,
        met=None if group.verdict == "inconclusive" else group.verdict == "pass",
        met_share=group.met_share,
        worst_start_s=round(worst.start_s, 3) if worst is not None and rolling else None,
        worst_end_s=round(worst.end_s, 3) if worst is not None and rolling else None,
    )
