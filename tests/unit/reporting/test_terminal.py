from __future__ import annotations

import io

from rich.console import Console

from peakday.reporting.terminal import format_summary
from peakday.results.model import Result


def rendered(result: Result) -> str:
    console = Console(file=io.StringIO(), width=160, record=True, color_system=None)
    console.print(format_summary(result, "runs/x"))
    return console.export_text()


def test_open_model_summary_has_p99_corrected_and_uncorrected_per_phase(
    open_model_result: Result,
) -> None:
    text = rendered(open_model_result)

    assert "p99 by phase, corrected / uncorrected" in text
    *_, fault_line = (line for line in text.splitlines() if "fault:login-latency" in line)
    assert "1422.3 ms / 96.5 ms" in fault_line  # checkout: 1.4 s queued in the generator
    assert "from each request's intended start" in text
    assert "from the actual send" in text
    # Right after the phase table, before the SLOs.
    assert text.index("Phases and faults") < text.index("p99 by phase") < text.index("SLOs")


def test_closed_model_summary_has_no_uncorrected_table(smoke_result: Result) -> None:
    text = rendered(smoke_result)

    assert "uncorrected" not in text
    assert "Phases and faults" in text
