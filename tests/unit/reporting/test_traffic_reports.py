"""Reports show per-proxy traffic beside the fault windows, and a fault that reached nothing is
named as the reason there is no verdict, in every renderer."""

from __future__ import annotations

import io

from rich.console import Console

from peakday.faults.traffic import traffic_from_records
from peakday.reporting.html import render_html
from peakday.reporting.markdown import render_markdown
from peakday.reporting.terminal import format_summary
from peakday.results.model import Result
from peakday.scoring.evaluate import rescore
from unit.reporting.sample_results import load_smoke, scored
from unit.scoring.synthetic import traffic_records


def unreached() -> Result:
    """The smoke run re-judged as if its login proxy had carried nothing (schema 3)."""
    smoke = load_smoke()
    t0 = smoke.run.load_started_wall
    assert t0 is not None
    records = traffic_records(t0, range(-1, 31), {"auth_login": 0.0, "auth_introspect": 700.0})
    traffic = traffic_from_records(records, ["auth_introspect", "auth_login"], t0, 30.0)
    upgraded = smoke.model_copy(update={"schema_version": 3, "traffic": traffic})
    return rescore(upgraded)


def test_a_fault_that_reached_nothing_is_the_reason_in_the_terminal_summary() -> None:
    result = unreached()
    assert result.outcome == "inconclusive"
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    console.print(format_summary(result, "runs/x"))
    text = console.export_text()
    assert "INCONCLUSIVE" in text
    assert (
        "No verdict: Fault 'login-latency' reached no traffic: proxy auth_login received 0 bytes"
        in text
    )


def test_summary_md_has_a_traffic_table_and_the_unreached_fault() -> None:
    text = render_markdown(unreached())
    assert "| auth\\_login | 0 B |" in text
    assert "| login-latency | proxy auth\\_login | ❌ reached NO traffic | 0 B | 0 B |" in text
    assert text.index("Traffic through the proxies") < text.index("| step | requests")


def test_report_html_charts_bytes_per_proxy_with_the_fault_window_shaded() -> None:
    html = render_html(scored(load_smoke()))
    section = html[html.index("<h2>Traffic through the proxies</h2>") :]
    section = section[: section.index("</section>")]
    assert 'class="chart traffic"' in section
    assert "<title>login-latency</title>" in section  # the fault band
    assert "auth_introspect" in section and "auth_login" in section
    assert "reached traffic" in section
    assert "reached NO traffic" in render_html(unreached())


def test_results_without_traffic_show_no_traffic_section() -> None:
    smoke = load_smoke()
    assert "Traffic through the proxies" not in render_html(smoke)
    assert "Traffic through the proxies" not in render_markdown(smoke)
