"""One sentence on an SLO judged window by window: the worst window and where, the share that
met the objective and every fault window's value (pure). Every report shows it as the detail."""

from __future__ import annotations

from peakday.experiment.units import format_measure
from peakday.results.model import SloResult, WindowValue
from peakday.scoring.windowed import Windowed


def _span(start_s: float, end_s: float) -> str:
    return f"{start_s:.0f}-{end_s:.0f} s"


def _noun(result: SloResult) -> str:
    if result.window_s is not None:
        return f"{result.window_s:g} s window"
    if result.within is not None:
        return "second"
    return "fault window"


def worst_text(result: SloResult) -> str:
    """'worst 10 s window 62-72 s: 0 req/s', or '' when no window had a value."""
    worst = result.worst
    if worst is None or worst.value is None:
        return ""
    where = _span(worst.start_s, worst.end_s)
    if result.window_s is None and result.within is None:
        where = f"{worst.phase} ({where})"
    return f"worst {_noun(result)} {where}: {format_measure(worst.value, result.unit)}"


def share_text(result: SloResult) -> str:
    if result.within is None or result.met_share is None:
        return ""
    noun = "windows" if result.window_s is not None else "seconds"
    return f"{result.met_share:.0%} of {noun} met the objective, {result.within:.0%} needed"


def fault_window_text(window: WindowValue, unit: str) -> str:
    name = window.phase.removeprefix("fault:")
    if window.value is None:
        return f"{name} no data"
    mark = "met" if window.met else "missed"
    return f"{name} {format_measure(window.value, unit)} ({mark})"


def window_detail(result: SloResult, judged: Windowed) -> str:
    parts = [worst_text(result), share_text(result)]
    if result.windows:
        listed = ", ".join(fault_window_text(w, result.unit) for w in result.windows)
        parts.append(f"per fault window: {listed}")
    units = sum(len(g.units) for g in judged.groups)
    if judged.judged < units:
        parts.append(f"{units - judged.judged} of {units} windows had no requests to judge")
    if result.verdict == "inconclusive" and judged.why_missing:
        parts.append(judged.why_missing)
    return "; ".join(p for p in parts if p)


def objective_text(slo: SloResult) -> str:
    """The objective as reports show it: '>= 1 rps in every 10 s window, within 95%'."""
    text = slo.objective
    if slo.window_s is not None:
        text += f" in every {slo.window_s:g} s window"
    if slo.within is not None:
        share = f"{slo.within * 100:.4g}%"
        text += f", within {share}" if slo.window_s is not None else f" per second, within {share}"
    return text
