"""Server-side series (`source: prometheus`) in the reports: one HTML chart per series with the
SLO's objective over the phase it judges, and min / max / last per phase in Markdown."""

from __future__ import annotations

import re

from peakday.experiment.models import Experiment
from peakday.reporting.html import render_html
from peakday.reporting.markdown import render_markdown
from peakday.reporting.model import build_view
from peakday.reporting.server_charts import query_notes, server_charts
from peakday.results.model import Result, TimelineRow
from peakday.scoring.evaluate import rescore

from .sample_results import load_smoke

QUERY = (
    'sum(rate(peakday_http_requests_total{service="auth",route="/login",status=~"5.."}[3s]))\n'
    '/ sum(rate(peakday_http_requests_total{service="auth",route="/login"}[3s]))'
)
SERIES = "prometheus:server-login-errors"


def server_row(t: int, value: float | None, name: str = SERIES) -> TimelineRow:
    return TimelineRow(
        t_s=t, name=name, requests=0, failures=0, p50_ms=None, p95_ms=None, p99_ms=None, value=value
    )


def with_server_series() -> Result:
    """The smoke run (baseline 4-12 s, fault 12-20 s, recovery 20-30 s) with a PromQL SLO on
    the fault (0.02 before it; 0.4, then 0.6 in it; 0.1, then 0.05 after) and a server-side stop
    condition."""
    result = load_smoke()
    data = result.experiment.model_dump(mode="json", exclude_unset=True)
    data["monitoring"] = "prometheus"
    data["slos"] = [
        *data["slos"],
        {
            "name": "server-login-errors",
            "source": "prometheus",
            "query": QUERY,
            "objective": "< 5%",
            "phase": "fault",
        },
    ]
    data["stop_conditions"] = [
        {
            "name": "auth-up",
            "source": "prometheus",
            "query": 'sum(up{job="auth"})',
            "metric": "value",
            "when": "< 1",
            "sustained": "5s",
        }
    ]
    spec = Experiment.model_validate(data)
    values: dict[int, float | None] = {
        t: 0.02 if t < 12 else 0.4 if t < 16 else 0.6 if t < 20 else 0.1 if t < 24 else 0.05
        for t in range(30)
    }
    values[25] = None  # a second Prometheus gave no value: a gap, never a zero
    rows = [server_row(t, v) for t, v in values.items()]
    rows += [server_row(t, 1.0, "prometheus:auth-up") for t in range(30)]
    return rescore(result.model_copy(update={"server_timeline": tuple(rows)}), spec)


def test_each_series_has_a_view_with_its_values_lines_and_phase_figures() -> None:
    view = build_view(with_server_series())
    errors, up = view.server_series
    assert (errors.name, errors.kind, up.name, up.kind) == (
        "server-login-errors",
        "SLO",
        "auth-up",
        "stop condition",
    )
    assert errors.query.startswith("sum(rate(") and "\n" not in errors.query
    assert errors.values[11:13] == (0.02, 0.4) and errors.values[25] is None
    assert (errors.judged, errors.verdict) == ("mean over fault", "fail")
    assert errors.measured == "0.5"  # the mean over the fault
    (line,) = errors.lines
    assert line.value == 0.05 and line.label.startswith("server-login-errors < 5%")
    assert line.spans == ((12.065, 20.009),)  # the fault window only
    figures = {f.phase: f.text for f in errors.phases}
    assert figures == {
        "baseline": "0.02 / 0.02 / 0.02",
        "fault:login-latency": "0.4 / 0.6 / 0.6",
        "recovery": "0.05 / 0.1 / 0.05",
    }
    (stop,) = up.lines
    assert (stop.value, stop.spans) == (1.0, ((4.0, 30.0),))
    assert stop.label == "stop auth-up < 1 for 5s"


def test_the_html_report_draws_one_chart_per_series_with_its_objective_and_query() -> None:
    result = with_server_series()
    html = render_html(result)
    assert "Server-side series (Prometheus)" in html
    charts = re.findall(r'<svg class="chart server".*?</svg>', html, re.S)
    assert len(charts) == 2
    errors, up = charts
    assert "server-login-errors: server-side (Prometheus)" in errors
    # the objective line over the fault window only (x of 12.065 s and 20.009 s of 30 s)
    (slo_line,) = re.findall(r'<line class="slo-line" x1="([\d.]+)" x2="([\d.]+)"', errors)
    plot_w = 640 - 58 - 12
    assert slo_line == (f"{58 + 12.065 / 30 * plot_w:.1f}", f"{58 + 20.009 / 30 * plot_w:.1f}")
    assert "server-login-errors &lt; 5%" in errors
    assert (
        'class="chart-note"' in errors and "PromQL: sum(rate(peakday_http_requests_total" in errors
    )
    # the value line breaks at the second without a value (two polylines, not one)
    assert errors.count('<polyline class="series"') == 2
    assert "stop auth-up &lt; 1 for 5s" in up
    assert (
        'text-anchor="end">0</text>' in up
    )  # from 0: a constant 1 is not a flat line at the floor
    assert 'class="fault-band"' in errors and 'class="warmup-band"' in errors
    assert "0.02 / 0.02 / 0.02" in html and "0.4 / 0.6 / 0.6" in html


def test_the_markdown_summary_lists_min_max_last_per_phase_and_the_query() -> None:
    markdown = render_markdown(with_server_series())
    assert "**Server-side series (Prometheus), min / max / last per phase:**" in markdown
    assert "| series | baseline | fault:login-latency | recovery |" in markdown
    assert (
        "| server-login-errors (SLO, mean over fault: 0.5 fail) "
        "| 0.02 / 0.02 / 0.02 | 0.4 / 0.6 / 0.6 | 0.05 / 0.1 / 0.05 |" in markdown
    )
    assert "- server-login-errors: `sum(rate(" in markdown


def test_a_result_without_server_series_has_no_section() -> None:
    result = load_smoke()
    assert build_view(result).server_series == ()
    assert server_charts(build_view(result)) == []
    assert "Server-side series" not in render_html(result)
    assert "Server-side series" not in render_markdown(result)


def test_a_long_query_wraps_into_a_few_note_lines_and_is_cut_after_them() -> None:
    notes = query_notes("sum(rate(x[5s])) / " * 40)
    assert len(notes) == 4 and notes[-1].endswith("…")
    assert all(len(n) <= 95 for n in notes)
    assert query_notes("up") == ("PromQL: up",)
