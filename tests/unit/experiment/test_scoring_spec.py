"""Validation of SLO kinds, weights, stop conditions and scoring settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from peakday.experiment.loader import validate_files
from peakday.experiment.validate import validate_text

BASE = """\
name: scored
load:
  users: 10
  spawn_rate: 5
  duration: 3m
  warmup: 30s
faults:
  - name: slow-login
    at: 1m
    duration: 1m
    proxy: auth_login
    toxic: latency
    attributes: {latency: 500}
slos:
  - name: login-p95
    request: login
    metric: p95
    objective: "<= 2x baseline"
    warning: "<= 3x baseline"
    phase: fault
    weight: 2
    key: true
  - name: checkout-budget
    request: checkout
    metric: error_budget
    target: "99.5%"
    objective: "<= 50%"
    phase: fault
    burn_rate_alerts:
      - {factor: 14.4, long: 10s, short: 1s}
stop_conditions:
  - name: checkout-collapse
    request: checkout
    metric: success_rate
    when: "< 90%"
    sustained: 10s
    action: end_faults
scoring:
  pass_score: 90
  warn_score: 75
"""


def line_of(text: str, snippet: str) -> int:
    return text[: text.index(snippet)].count("\n") + 1


def test_the_base_spec_with_every_new_feature_is_valid() -> None:
    validation = validate_text(BASE, "scored.yaml")
    assert validation.issues == ()
    experiment = validation.experiment
    assert experiment is not None
    assert experiment.slos[0].key and experiment.slos[0].weight == 2
    assert experiment.slos[1].parsed_target == pytest.approx(0.995)
    assert experiment.stop_conditions[0].sustained == 10.0
    assert experiment.scoring.recovery_hold == 5.0


def test_the_shipped_experiments_validate(repo: Path) -> None:
    files = sorted((repo / "experiments").glob("*.yaml"))
    assert files
    assert validate_files(files) == {str(f): [] for f in files}


@pytest.mark.parametrize(
    ("old", "new", "key_path", "words"),
    [
        pytest.param(
            '    warning: "<= 3x baseline"\n    phase: fault\n', "    phase: baseline\n",
            "slos[0].objective", "with itself", id="baseline-relative-in-baseline",
        ),
        pytest.param(
            'objective: "<= 2x baseline"', 'objective: "<= +10%"',
            "slos[0].objective", "earlier run", id="reference-without-compare-to",
        ),
        pytest.param(
            '    target: "99.5%"\n', "", "slos[1]", "no target", id="budget-without-target",
        ),
        pytest.param(
            "    weight: 2\n", '    weight: 2\n    target: "99%"\n',
            "slos[0].target", "only applies", id="target-on-latency",
        ),
        pytest.param(
            "long: 10s, short: 1s", "long: 10s, short: 10s",
            "slos[1].burn_rate_alerts[0].short", "not shorter", id="short-window-not-shorter",
        ),
        pytest.param(
            'warning: "<= 3x baseline"', 'warning: "<= 1s"', None, None, id="mixed-kinds-allowed",
        ),
        pytest.param(
            'objective: "<= 2x baseline"\n    warning: "<= 3x baseline"',
            'objective: "< 800ms"\n    warning: "< 500ms"',
            "slos[0].warning", "stricter", id="warning-stricter",
        ),
        pytest.param(
            'objective: "<= 2x baseline"\n    warning: "<= 3x baseline"',
            'objective: "< 800ms"\n    warning: "> 900ms"',
            "slos[0].warning", "other way", id="warning-other-way",
        ),
        pytest.param(
            "    request: checkout\n    metric: success_rate",
            "    request: chekout\n    metric: success_rate",
            "stop_conditions[0].request", "Unknown step", id="stop-unknown-step",
        ),
        pytest.param(
            "sustained: 10s", "sustained: 5m",
            "stop_conditions[0].sustained", "never fire", id="stop-longer-than-run",
        ),
        pytest.param(
            'when: "< 90%"', 'when: "< 90ms"',
            "stop_conditions[0].when", "percentage", id="stop-bad-when",
        ),
        pytest.param(
            "action: end_faults", "action: panic",
            "stop_conditions[0].action", "end_run", id="stop-bad-action",
        ),
        pytest.param(
            "warn_score: 75", "warn_score: 95", "scoring.warn_score", "above pass_score",
            id="warn-above-pass",
        ),
        pytest.param(
            "key: true", "key: maybe", "slos[0].key", "true or false", id="key-not-boolean",
        ),
        pytest.param(
            "weight: 2", "weight: -1", "slos[0].weight", "at least 0", id="negative-weight",
        ),
    ],
)  # fmt: skip
def test_each_bad_edit_gives_one_located_issue(
    old: str, new: str, key_path: str | None, words: str | None
) -> None:
    assert BASE.count(old) == 1, old
    text = BASE.replace(old, new)
    issues = validate_text(text, "scored.yaml").issues
    if key_path is None:
        assert issues == ()
        return
    assert len(issues) == 1, [i.format() for i in issues]
    (issue,) = issues
    assert issue.key_path == key_path
    assert words is not None and words in issue.message + issue.hint, issue.format()
    assert issue.line is not None


def test_all_weights_zero_leaves_nothing_to_score() -> None:
    text = BASE.replace("    weight: 2\n", "    weight: 0\n").replace(
        "    phase: fault\n    burn_rate_alerts",
        "    phase: fault\n    weight: 0\n    burn_rate_alerts",
    )
    issues = validate_text(text, "scored.yaml").issues
    assert [i.key_path for i in issues] == ["slos"]
    assert "nothing to weigh" in issues[0].message


def test_duplicate_stop_condition_names_are_reported_at_the_second() -> None:
    second = '  - {name: checkout-collapse, request: login, metric: p95, when: "> 5s"}\n'
    text = BASE.replace("scoring:\n", second + "scoring:\n")
    issues = validate_text(text, "scored.yaml").issues
    assert [i.key_path for i in issues] == ["stop_conditions[1].name"]
    assert issues[0].line == line_of(text, second.strip())
