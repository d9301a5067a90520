"""Validation of per-window SLOs: phase each-fault / fault:NAME, window and within."""

from __future__ import annotations

import pytest

from peakday.experiment.validate import validate_text

SPEC = """name: windows
load: {{users: 2, spawn_rate: 2, duration: 60s, warmup: 5s}}
faults:
  - {{name: login-slow, at: 20s, duration: 10s, proxy: auth_login, toxic: latency,
     attributes: {{latency: 100}}}}
  - {{at: 30s, duration: 10s, proxy: auth_login, toxic: timeout, attributes: {{timeout: 0}}}}
slos:
  - {{name: s, request: login, {slo}}}
"""


def issues(slo: str) -> list[str]:
    return [i.format() for i in validate_text(SPEC.format(slo=slo), "w.yaml").issues]


@pytest.mark.parametrize(
    "slo",
    [
        'metric: rps, objective: ">= 1 rps", phase: each-fault',
        'metric: rps, objective: ">= 1 rps", phase: "fault:login-slow", window: 5s',
        'metric: rps, objective: ">= 1 rps", phase: "fault:timeout@auth_login"',
        'metric: p95, objective: "< 300ms", phase: fault, window: 10s, within: "95%"',
        'metric: success_rate, objective: ">= baseline - 1pp", phase: all, within: "99.5%"',
    ],
    ids=["each-fault", "named-window", "unnamed-fault-label", "window-within", "seconds"],
)
def test_per_window_slos_are_accepted(slo: str) -> None:
    assert issues(slo) == []


def test_an_unknown_fault_name_names_the_line_key_and_the_known_faults() -> None:
    (issue,) = issues('metric: rps, objective: ">= 1 rps", phase: "fault:login-slw"')
    assert issue.startswith("w.yaml:8: slos[0].phase: The SLO 's' judges the window of fault")
    assert "Did you mean 'login-slow'?" in issue
    assert "fault:login-slow and fault:timeout@auth_login" in issue


@pytest.mark.parametrize(
    ("slo", "key", "words"),
    [
        ('metric: rps, objective: ">= 1 rps", phase: each-faults', "phase", "each-fault"),
        ('metric: rps, objective: ">= 1 rps", within: "120%"', "within", "between 0% and 100%"),
        ('metric: rps, objective: ">= 1 rps", within: "0.95"', "within", "such as within"),
        ('metric: rps, objective: ">= 1 rps", window: 2.5s', "window", "whole number"),
        ('metric: rps, objective: ">= 1 rps", window: 0s', "window", "greater than 0"),
        (
            'metric: error_budget, target: "99%", objective: "<= 50%", window: 10s',
            "window",
            "burn-rate windows",
        ),
        (
            'metric: error_budget, target: "99%", objective: "<= 50%", phase: each-fault',
            "phase",
            "per fault window",
        ),
    ],
    ids=[
        "phase-typo",
        "share-too-big",
        "share-no-percent",
        "fraction",
        "zero",
        "budget-window",
        "budget-each-fault",
    ],
)
def test_bad_window_settings_name_the_key(slo: str, key: str, words: str) -> None:
    found = issues(slo)
    assert len(found) == 1, found
    assert found[0].startswith(f"w.yaml:8: slos[0].{key}:"), found[0]
    assert words in found[0], found[0]


def test_window_on_a_reference_objective_is_refused() -> None:
    spec = SPEC.format(slo='metric: p95, objective: "<= +10%", window: 10s')
    spec += "scoring: {compare_to: results/old}\n"
    found = [i.format() for i in validate_text(spec, "w.yaml").issues]
    assert any("reference run" in f and "slos[0].objective" in f for f in found), found
