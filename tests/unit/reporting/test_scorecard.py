"""`peakday score`'s text: SLO values in their own units, the matrix as an indented table."""

from __future__ import annotations

from peakday.reporting.scorecard import format_scorecard
from peakday.results.model import Result


def _with_slo(result: Result, **changes: object) -> Result:
    return result.model_copy(update={"slos": (result.slos[0].model_copy(update=changes),)})


def test_each_slo_value_reads_in_its_unit(scored_result: Result) -> None:
    text = format_scorecard(scored_result)
    assert "login-fast-at-baseline [baseline]: login p95 < 250ms -> 47.9 ms" in text
    assert "login-succeeds [all]: login success_rate >= 99% -> 100.00%" in text


def test_an_integrity_slo_reads_in_records_not_ms(scored_result: Result) -> None:
    lost = _with_slo(
        scored_result, name="no-lost-orders", metric="lost_orders", value=3.0, unit="records"
    )
    assert "-> 3 records" in format_scorecard(lost)


def test_rps_reads_with_one_decimal_like_every_report(scored_result: Result) -> None:
    rps = _with_slo(scored_result, metric="rps", value=12.345, unit="req/s")
    assert "-> 12.3 req/s" in format_scorecard(rps)


def test_the_matrix_is_an_indented_table_with_the_steps_as_columns(scored_result: Result) -> None:
    lines = format_scorecard(scored_result).splitlines()
    header = lines.index("Resiliency matrix (fault x step, during the fault vs baseline)") + 1
    assert lines[header].split() == ["fault", "checkout", "label", "login", "pos_checkout"]
    assert lines[header].startswith("  fault  ")
    assert lines[header + 1].startswith("  login-latency  pass p95 x1.0")
    assert lines[header].index("checkout") == lines[header + 1].index("pass")  # aligned
