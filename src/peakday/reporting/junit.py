"""junit.xml: one test case per SLO (and phase), one for the run, one for the score; pure.

Failed SLOs are <failure> with measured vs objective; SLOs without data are <error> (nothing
could be judged, which a gate must not read as green); a run that was interrupted or broke is
an <error> on the "run" case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from peakday.reporting import extras
from peakday.reporting.plaintext import format_result_text, slo_sentence
from peakday.results.model import Result


def _testcase(parent: ET.Element, classname: str, name: str, seconds: float) -> ET.Element:
    return ET.SubElement(
        parent, "testcase", {"classname": classname, "name": name, "time": f"{seconds:.3f}"}
    )


def render_junit(result: Result) -> str:
    name = result.experiment.name
    classname = f"peakday.{name}"
    duration_s = result.run.load_ended_s or 0.0
    suites = ET.Element("testsuites", {"name": "peakday"})
    suite = ET.SubElement(
        suites,
        "testsuite",
        {
            "name": name,
            "timestamp": result.run.started_at,
            "hostname": result.environment.get("host", ""),
        },
    )
    score = extras.score(result)
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("run_id", result.run.id),
        ("platform", result.run.platform),
        ("status", result.run.status),
        ("verdict", result.verdict),
        ("outcome", result.outcome),
        ("score", "" if score is None else f"{score:g}"),
        *((f"env.{k}", v) for k, v in sorted(result.environment.items())),
    ):
        ET.SubElement(properties, "property", {"name": key, "value": value})
    table = format_result_text(result)
    failures = errors = 0

    run_case = _testcase(suite, classname, "run", duration_s)
    if result.run.status == "stopped":
        ET.SubElement(
            run_case, "system-out"
        ).text = f"The run ended early on purpose (outcome {result.outcome})."
    elif result.run.status != "completed":
        errors += 1
        message = result.run.error or f"The run was {result.run.status} before the load ended."
        error = ET.SubElement(run_case, "error", {"type": result.run.status, "message": message})
        error.text = table

    for slo in result.slos:
        case = _testcase(suite, classname, f"{slo.name} [{slo.phase}]", 0.0)
        if slo.verdict == "fail":
            failures += 1
            node = ET.SubElement(case, "failure", {"type": "slo", "message": slo_sentence(slo)})
            node.text = table
        elif slo.verdict == "inconclusive":
            errors += 1
            node = ET.SubElement(
                case, "error", {"type": "inconclusive", "message": slo_sentence(slo)}
            )
            node.text = table
        elif slo.verdict == "warn":
            ET.SubElement(case, "system-out").text = "warning: " + slo_sentence(slo)

    tests = len(result.slos) + 1
    if result.score is not None:
        # The verdict follows the score too (pass/warn limits, key SLOs): one case says why.
        tests += 1
        card = result.score
        case = _testcase(suite, classname, "score", 0.0)
        reason = card.reason or f"score {card.total}"
        if result.verdict == "fail":
            failures += 1
            ET.SubElement(case, "failure", {"type": "score", "message": reason}).text = table
        elif result.verdict == "warn":
            ET.SubElement(case, "system-out").text = "warning: " + reason
    for element in (suites, suite):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", str(errors))
        element.set("skipped", "0")
        element.set("time", f"{duration_s:.3f}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"
