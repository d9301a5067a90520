"""Plain-text tables (no colour, no box drawing) for JUnit, pytest messages and logs; pure."""

from __future__ import annotations

from collections.abc import Sequence

from peakday.experiment.units import format_measure
from peakday.reporting.formatting import format_table
from peakday.results.model import Result, SloResult
from peakday.scoring.window_text import objective_text

_MARK = {"pass": "ok", "fail": "FAIL", "warn": "warn", "inconclusive": "??"}


def slo_sentence(slo: SloResult) -> str:
    """'login p95 in phase fault: measured 351.5 ms, objective < 250ms'."""
    measured = format_measure(slo.value, slo.unit)
    why = f" ({slo.detail})" if slo.detail else ""
    return (
        f"{slo.request} {slo.metric} in phase {slo.phase}: measured {measured}{why}, "
        f"objective {objective_text(slo)}"
    )


def format_slo_table(slos: Sequence[SloResult]) -> str:
    rows = [
        (
            _MARK.get(slo.verdict, slo.verdict),
            slo.name,
            slo.request,
            slo.metric,
            slo.phase,
            objective_text(slo),
            format_measure(slo.value, slo.unit) + (f" ({slo.detail})" if slo.detail else ""),
        )
        for slo in slos
    ]
    header = ("", "SLO", "step", "metric", "phase", "objective", "measured")
    return format_table(header, rows, rule=True)


def headline(result: Result) -> str:
    """One line that says why: the failed SLO itself when there is one, else the counts."""
    passed = sum(1 for s in result.slos if s.verdict == "pass")
    failed = [s for s in result.slos if s.verdict == "fail"]
    line = f"{result.experiment.name}: {result.verdict.upper()}"
    if len(failed) == 1:
        line += f": {failed[0].name} ({slo_sentence(failed[0])})"
    elif failed:
        line += f": {len(failed)} SLOs failed ({', '.join(s.name for s in failed)})"
    return line + f"; {passed} of {len(result.slos)} SLOs passed, run {result.run.status}"


def format_result_text(result: Result) -> str:
    """Headline plus the SLO table: what a failed gate says."""
    if not result.slos:
        return headline(result) + "\nThe experiment declares no SLOs."
    return headline(result) + "\n" + format_slo_table(result.slos)
