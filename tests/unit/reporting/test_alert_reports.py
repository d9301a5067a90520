"""Prometheus alerts in every report: terminal, Markdown and HTML (JUnit has them as checks)."""

from __future__ import annotations

import io

from rich.console import Console

from peakday.reporting.html import render_html
from peakday.reporting.markdown import render_markdown
from peakday.reporting.terminal import format_summary
from peakday.results.model import AlertTiming, Result

from .sample_results import load_smoke


def with_alerts() -> Result:
    return load_smoke().model_copy(
        update={
            "alerts": (
                AlertTiming(
                    fault="slow-login",
                    alert="LoginLatencyHigh",
                    pending_at_s=62.0,
                    firing_at_s=65.0,
                    time_to_alert_s=4.5,
                    cleared_at_s=130.0,
                ),
                AlertTiming(fault="slow-login", alert="NeverFires"),
                AlertTiming(fault=None, alert="Noisy", expected=False, firing_at_s=40.0),
            ),
            "alert_readings": 170,
        }
    )


def test_every_report_lists_each_alert_with_its_timing_and_verdict() -> None:
    result = with_alerts()
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    console.print(format_summary(result, "runs/x"))
    terminal = console.export_text()
    markdown = render_markdown(result)
    html = render_html(result)
    for text in (terminal, markdown, html):
        assert "Alerts (Prometheus)" in text
        assert "LoginLatencyHigh" in text and "4.5 s" in text and "65.0 s" in text
        assert "never fired" in text
        assert "false positive" in text
    assert (
        "| slow-login | LoginLatencyHigh | 62.0 s | 65.0 s | 4.5 s | 2.2 min | pass |" in markdown
    )


def test_a_result_without_alerts_has_no_alerts_section() -> None:
    result = load_smoke()
    assert "Alerts (Prometheus)" not in render_markdown(result)
    assert "Alerts (Prometheus)" not in render_html(result)
