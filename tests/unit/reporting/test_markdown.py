from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from peakday.reporting.markdown import md, render_markdown, render_summary_svg
from peakday.results.model import Result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a|b", "a\\|b"),
        ("<script>", "&lt;script&gt;"),
        ("**x** [y](z)", "\\*\\*x\\*\\* \\[y\\](z)"),
        ("# not a heading", "\\# not a heading"),
        ("1. not a list", "1\\. not a list"),
        ("two\nlines", "two lines"),
        ("p95 < 250ms & more", "p95 &lt; 250ms &amp; more"),
    ],
    ids=["pipe", "html", "emphasis-and-link", "heading", "ordered-list", "newline", "ampersand"],
)
def test_user_text_is_inert(text: str, expected: str) -> None:
    assert md(text, starts_line=True) == expected


def test_numbers_inside_a_line_are_left_alone() -> None:
    assert md("47.9 ms") == "47.9 ms"


def test_summary_headline_counts_and_slo_rows(smoke_result: Result) -> None:
    text = render_markdown(smoke_result)
    assert text.startswith("## ✅ smoke: PASS\n")
    assert "6 of 6 SLOs passed" in text
    assert text.count("\n| ✅ |") == len(smoke_result.slos)
    assert "| login | 137 | 0 |" in text
    assert "**Faults:** login-latency" in text


def test_failed_slo_is_bold_and_headline_red(failing_result: Result) -> None:
    text = render_markdown(failing_result)
    assert text.startswith("## ❌ smoke: FAIL")
    assert "| ❌ | **login-fast-at-baseline** |" in text


def test_scored_summary_has_score_reason_and_matrix(scored_result: Result) -> None:
    text = render_markdown(scored_result)
    assert "· score 92/100" in text.splitlines()[0]
    assert "**Score 92.5 is at least the pass score 90.**" in text
    assert "| login-latency | 🟢 pass: p95 45 ms (x1.0), 100.0% ok, 10.0 req/s |" in text
    assert "🟡 degraded: p95 352 ms (x7.3), 100.0% ok, 3.4 req/s" in text
    assert "login-latency: detected after 1.0 s, recovered after 2.0 s" in text


def test_table_rows_keep_their_columns_with_hostile_text(hostile_result: Result) -> None:
    text = render_markdown(hostile_result)
    rows = [line for line in text.splitlines() if line.startswith("| ✅ |")]
    assert rows and all(line.replace("\\|", "").count("|") == 7 for line in rows)
    assert "<script>" not in text


def test_summary_svg_is_standalone_and_well_formed(smoke_result: Result) -> None:
    svg = render_summary_svg(smoke_result)
    root = ET.fromstring(svg.split("?>", 1)[1])
    assert root.tag.endswith("svg")
    assert "<style>" in svg


def test_open_model_summary_compares_corrected_and_uncorrected_p99_per_phase(
    open_model_result: Result,
) -> None:
    summary = render_markdown(open_model_result)

    assert "**p99 by phase, corrected / uncorrected** (open model)" in summary
    assert "| phase | checkout | label | login | pos\\_checkout |" in summary
    assert "| fault:login-latency | 1422.3 ms / 96.5 ms |" in summary
    assert "| baseline | 66.2 ms / 66.2 ms |" in summary
    assert "Corrected: from each request's intended start" in summary
    assert "Uncorrected: from the actual send" in summary


def test_closed_model_summary_has_one_latency_series(smoke_result: Result) -> None:
    assert "uncorrected" not in render_markdown(smoke_result).lower()
