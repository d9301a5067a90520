from __future__ import annotations

import xml.etree.ElementTree as ET

from peakday.reporting.junit import render_junit
from peakday.results.model import Result


def suite(result: Result) -> ET.Element:
    root = ET.fromstring(render_junit(result).split("?>", 1)[1])
    found = root.find("testsuite")
    assert found is not None
    return found


def test_one_case_per_slo_and_phase_plus_the_run(smoke_result: Result) -> None:
    cases = suite(smoke_result).findall("testcase")
    assert [c.get("name") for c in cases] == ["run"] + [
        f"{s.name} [{s.phase}]" for s in smoke_result.slos
    ]
    assert all(c.find("failure") is None and c.find("error") is None for c in cases)


def test_failed_slo_carries_measured_and_objective(failing_result: Result) -> None:
    element = suite(failing_result)
    assert element.get("failures") == "1" and element.get("errors") == "0"
    failure = element.find("testcase[@name='login-fast-at-baseline [baseline]']/failure")
    assert failure is not None
    assert failure.get("message") == (
        "login p95 in phase baseline: measured 351.5 ms, objective < 250ms"
    )
    assert "login-fast-at-baseline" in (failure.text or "")  # the whole SLO table


def test_inconclusive_slo_is_an_error_not_a_pass(smoke_result: Result) -> None:
    slos = list(smoke_result.slos)
    slos[-1] = slos[-1].model_copy(
        update={"value": None, "verdict": "inconclusive", "detail": "the phase did not happen"}
    )
    element = suite(smoke_result.model_copy(update={"slos": tuple(slos)}))
    error = element.find("testcase[@name='labels-recover [recovery]']/error")
    assert error is not None and error.get("type") == "inconclusive"
    assert "the phase did not happen" in (error.get("message") or "")


def test_interrupted_run_is_an_error_on_the_run_case(smoke_result: Result) -> None:
    run = smoke_result.run.model_copy(update={"status": "interrupted"})
    element = suite(smoke_result.model_copy(update={"run": run}))
    error = element.find("testcase[@name='run']/error")
    assert error is not None and error.get("type") == "interrupted"
    assert element.get("errors") == "1"


def test_user_text_is_escaped_and_the_xml_parses(hostile_result: Result) -> None:
    text = render_junit(hostile_result)
    assert "<script>" not in text
    suite(hostile_result)


def test_score_case_fails_when_the_verdict_does(scored_result: Result) -> None:
    assert suite(scored_result).find("testcase[@name='score']/failure") is None
    failed = scored_result.model_copy(update={"verdict": "fail"})
    failure = suite(failed).find("testcase[@name='score']/failure")
    assert failure is not None
    assert failure.get("message") == "Score 92.5 is at least the pass score 90."
