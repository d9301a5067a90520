from __future__ import annotations

import re
from html.parser import HTMLParser

from peakday.reporting.html import render_html
from peakday.results.model import Result
from unit.reporting.sample_results import HOSTILE


class _Collector(HTMLParser):
    """Tags, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    return collector


def test_page_has_verdict_slo_table_and_two_charts_per_step_plus_throughput(
    smoke_result: Result,
) -> None:
    page = render_html(smoke_result)
    steps = {row.name for row in smoke_result.timeline}
    assert page.count("<svg") == 2 * len(steps) + 1
    assert 'class="badge verdict-pass">PASS<' in page
    for slo in smoke_result.slos:
        assert f"<td>{slo.name}</td>" in page
    assert "351.5 ms" in page  # measured values are in the table


def test_charts_shade_fault_windows_and_draw_slo_lines(smoke_result: Result) -> None:
    page = render_html(smoke_result)
    # One fault band per chart (2 per step + throughput) and the SLO objective lines.
    assert page.count('class="fault-band"') == page.count("<svg")
    assert "login-fast-at-baseline &lt; 250ms" in page
    assert page.count('class="slo-line"') >= len(smoke_result.slos)


def test_page_is_self_contained(smoke_result: Result) -> None:
    page = render_html(smoke_result)
    tags = parse(page).tags
    assert "script" not in tags and "link" not in tags and "img" not in tags
    urls = re.findall(r"(?:src|href)\s*=", page)
    assert urls == []
    assert re.findall(r"https?://[^\"\s<]+", page) == ["http://www.w3.org/2000/svg"] * page.count(
        "<svg"
    )


def test_user_text_is_escaped_in_tables_charts_and_environment(hostile_result: Result) -> None:
    page = render_html(hostile_result)
    parsed = parse(page)
    assert "script" not in parsed.tags and "b" not in parsed.tags and "img" not in parsed.tags
    assert all(name not in ("onerror",) for name, _ in parsed.attrs)
    text = "".join(parsed.text)
    assert HOSTILE in text  # shown as the user wrote it
    assert "<b>fault</b>" in text


def test_old_result_has_no_score_matrix_or_recovery_sections(smoke_result: Result) -> None:
    page = render_html(smoke_result)
    assert "Resiliency matrix" not in page
    assert "Detection and recovery" not in page
    assert 'class="score"' not in page


def test_scored_result_shows_score_matrix_recovery_weights_and_stops(scored_result: Result) -> None:
    page = render_html(scored_result)
    assert 'class="score"' in page and "score 92/100" in page
    assert "Score 92.5 is at least the pass score 90." in page
    assert "Resiliency matrix" in page
    assert 'class="cell verdict-warn"' in page  # login degraded under the fault
    assert "degraded: p95 352 ms (x7.3), 100.0% ok, 3.4 req/s" in page
    assert "Load generator" in page and "generator peak CPU 11%" in page
    assert "Detection and recovery" in page and "recovered" in page
    assert "<th>weight</th>" in page and "3 key" in page
    assert "Stop condition &#39;checkout-collapse&#39;" in page


def test_failed_slo_row_is_marked(failing_result: Result) -> None:
    page = render_html(failing_result)
    assert 'class="badge verdict-fail">FAIL<' in page
    assert '<tr class="verdict-fail">' in page


def test_interrupted_run_says_so(smoke_result: Result) -> None:
    run = smoke_result.run.model_copy(update={"status": "interrupted"})
    page = render_html(smoke_result.model_copy(update={"run": run}))
    assert "The run was interrupted" in page


def test_run_without_requests_renders(smoke_result: Result) -> None:
    empty = smoke_result.model_copy(update={"timeline": ()})
    page = render_html(empty)
    assert "No requests were recorded." in page


def test_service_resources_are_charted_with_gaps_while_down(smoke_result: Result) -> None:
    from peakday.reporting.resources import resource_series
    from unit.reporting.sample_results import resource_records

    series = resource_series(
        resource_records(smoke_result), smoke_result.run.load_started_wall, 30.0
    )
    auth_cpu = next(s for s in series if s.service == "auth" and s.metric == "cpu_percent")
    assert auth_cpu.points[0][0] == 0.25  # samples before load start are left out
    assert [t for t, v in auth_cpu.points if v is None] == [14.25, 15.25]
    page = render_html(smoke_result, series)
    assert "Service resources" in page
    assert "services: CPU %" in page and "services: memory (MB)" in page
    assert "Service resources" not in render_html(smoke_result)


def _latency_svgs(page: str) -> list[str]:
    return re.findall(r'<svg class="chart latency".*?</svg>', page, flags=re.DOTALL)


def test_open_model_latency_charts_add_dashed_uncorrected_lines_and_say_which_is_which(
    open_model_result: Result,
) -> None:
    page = render_html(open_model_result)
    charts = _latency_svgs(page)

    steps = {row.name for row in open_model_result.timeline}
    assert len(charts) == len(steps)
    for chart in charts:
        dashed = re.findall(r'<polyline class="series"[^>]*stroke-dasharray="5 3"', chart)
        assert dashed, "no dashed uncorrected line"
        assert ">p95 uncorrected</title>" in chart and ">p99 uncorrected</title>" in chart
        legend = chart[chart.index('<g class="legend">') :]
        assert legend.count('stroke-dasharray="5 3"') == 2  # the legend shows them dashed
        assert "solid = corrected: from each request&#39;s intended start" in chart
        assert "dashed = uncorrected: from the actual send" in chart


def test_open_model_page_tables_p99_per_phase_both_ways(open_model_result: Result) -> None:
    page = render_html(open_model_result)

    assert "<h2>Latency: corrected and uncorrected</h2>" in page
    assert '<td>fault:login-latency</td><td class="num">1422.3 ms / 96.5 ms</td>' in page


def test_closed_model_page_has_no_uncorrected_series(smoke_result: Result) -> None:
    page = render_html(smoke_result)

    assert "uncorrected" not in page
    assert "stroke-dasharray" not in "".join(_latency_svgs(page))
    assert 'class="chart-note"' not in page
