"""Every report shows an SLO judged per window: its worst window, where, and each fault window."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from rich.console import Console

from peakday.experiment.models import Slo
from peakday.reporting.compare import requests_in_phase
from peakday.reporting.html import render_html
from peakday.reporting.junit import render_junit
from peakday.reporting.markdown import render_markdown
from peakday.reporting.model import step_views
from peakday.reporting.terminal import format_summary
from peakday.results.model import Result
from peakday.scoring.evaluate import rescore


@pytest.fixture(scope="module")
def windowed(smoke_result: Result) -> Result:
    slos = (
        Slo(
            name="login-fast-each-fault",
            request="login",
            metric="p95",
            objective="< 100ms",
            phase="each-fault",
            window=3.0,
        ),
        Slo(
            name="login-good-seconds",
            request="login",
            metric="p95",
            objective="< 100ms",
            phase="fault:login-latency",
            within="90%",
        ),
    )
    spec = smoke_result.experiment.model_copy(update={"slos": slos})
    return rescore(smoke_result, spec)


def test_the_result_holds_the_worst_window_and_each_fault_window(windowed: Result) -> None:
    each, seconds = windowed.slos
    assert each.verdict == "fail"  # 300 ms of latency on logins during the fault
    assert each.worst is not None and each.worst.phase == "fault:login-latency"
    assert [w.phase for w in each.windows] == ["fault:login-latency"]
    assert each.windows[0].worst_start_s == each.worst.start_s
    assert each.worst.end_s - each.worst.start_s == 3
    assert seconds.within == pytest.approx(0.9)
    assert seconds.met_share is not None and seconds.met_share < 0.9


def _terminal(result: Result) -> str:
    console = Console(file=io.StringIO(), width=400, record=True, color_system=None)
    console.print(format_summary(result, "runs/x"))
    return console.export_text()


@pytest.mark.parametrize(
    "render",
    [render_markdown, render_junit, render_html, _terminal],
    ids=["markdown", "junit", "html", "terminal"],
)
def test_every_report_says_where_the_worst_window_was(windowed: Result, render: object) -> None:
    text = render(windowed)  # type: ignore[operator]
    each = windowed.slos[0]
    assert each.worst is not None
    where = f"worst 3 s window {each.worst.start_s:.0f}-{each.worst.end_s:.0f} s"
    assert where in text
    assert "per fault window: login-latency" in text
    assert "of seconds met the objective, 90% needed" in text
    assert "&lt; 100ms in every 3 s window" in text or "< 100ms in every 3 s window" in text


def test_junit_fails_the_windowed_case(windowed: Result) -> None:
    suite = ET.fromstring(render_junit(windowed))
    failed = {
        case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None
    }
    assert "login-fast-each-fault [each-fault]" in failed


def test_compare_counts_the_requests_of_the_worst_window(windowed: Result) -> None:
    each = windowed.slos[0]
    assert each.worst is not None
    logins = [
        r.requests
        for r in windowed.timeline
        if r.name == "login" and each.worst.start_s <= r.t_s < each.worst.end_s
    ]
    assert requests_in_phase(windowed, each) == sum(logins) > 0


def test_the_chart_labels_the_objective_with_its_worst_window(windowed: Result) -> None:
    each = windowed.slos[0]
    assert each.worst is not None
    (login,) = [step for step in step_views(windowed) if step.name == "login"]
    labels = [line.label for line in login.slo_lines]
    where = f"(worst {each.worst.start_s:.0f}-{each.worst.end_s:.0f} s)"
    assert f"login-fast-each-fault < 100ms {where}" in labels
