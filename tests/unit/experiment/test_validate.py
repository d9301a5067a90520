"""Each bad edit of fixtures/smoke.yaml gives one issue at the right line and key path.

Line numbers refer to fixtures/smoke.yaml (after the edit); keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from peakday.experiment.validate import validate_text

FILE = "smoke.yaml"


@dataclass(frozen=True)
class Case:
    edits: tuple[tuple[str, str], ...]
    line: int
    key_path: str
    hint_word: str
    message_word: str = ""


def edited(text: str, edits: tuple[tuple[str, str], ...]) -> str:
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} must occur exactly once in the fixture"
        text = text.replace(old, new)
    return text


EXTRA_LATENCY_FAULT = """jitter: 50
  - at: 90s
    duration: 1m
    proxy: auth_login
    toxic: latency
    attributes: {latency: 100}"""

CASES = [
    pytest.param(
        Case((("slos:", "sloss:"),), 23, "sloss", "'slos'", "Unknown key 'sloss'"),
        id="unknown-top-level-key",
    ),
    pytest.param(
        Case((("spawn_rate: 5", "spawnrate: 5"),), 7, "load.spawnrate", "'spawn_rate'"),
        id="unknown-nested-key",
    ),
    pytest.param(
        Case((("users: 10", "users: many"),), 6, "load.users", "number", "'many'"),
        id="wrong-type",
    ),
    pytest.param(
        Case((("users: 10", "users: yes"),), 6, "load.users", "booleans", "True"),
        id="yaml-boolean-for-number",
    ),
    pytest.param(
        Case((("duration: 3m", "duration: 30 parsecs"),), 8, "load.duration", "'30s'"),
        id="bad-duration",
    ),
    pytest.param(
        Case((("duration: 3m", "duration: 0s"),), 8, "load.duration", "'30s'", "zero"),
        id="zero-duration",
    ),
    pytest.param(
        Case(
            (("proxy: auth_login", "proxy: auth_logon"),),
            18,
            "faults[0].proxy",
            "'auth_login'",
            "'auth_logon'",
        ),
        id="unknown-proxy",
    ),
    pytest.param(
        Case((("toxic: latency", "toxic: lag"),), 19, "faults[0].toxic", "bandwidth", "'lag'"),
        id="unknown-toxic-type",
    ),
    pytest.param(
        Case(
            (("jitter: 50", "jiter: 50"),), 22, "faults[0].attributes.jiter", "'jitter'", "'jiter'"
        ),
        id="bad-toxic-attribute",
    ),
    pytest.param(
        Case(
            (("latency: 500", "latency: 500ms"),),
            21,
            "faults[0].attributes.latency",
            "milliseconds",
        ),
        id="attribute-with-unit",
    ),
    pytest.param(
        Case(
            (("      latency: 500\n", ""),),
            20,
            "faults[0].attributes",
            "latency: 500",
            "'latency'",
        ),
        id="missing-required-attribute",
    ),
    pytest.param(
        Case((("at: 1m", "at: 150s"),), 17, "faults[0].duration", "load.duration", "3m"),
        id="fault-ends-after-run",
    ),
    pytest.param(
        Case((("at: 1m", "at: 10s"),), 16, "faults[0].at", "30s", "warmup"),
        id="fault-starts-in-warmup",
    ),
    pytest.param(
        Case((("jitter: 50", EXTRA_LATENCY_FAULT),), 23, "faults[1].at", "overlap", "faults[0]"),
        id="overlapping-faults",
    ),
    pytest.param(
        Case((("request: login", "request: logon"),), 25, "slos[0].request", "'login'"),
        id="unknown-step",
    ),
    pytest.param(
        Case(
            (("request: checkout", "request: pos_checkout"),),
            30,
            "slos[1].request",
            "pos: 2",
            "No enabled journey",
        ),
        id="step-of-disabled-journey",
    ),
    pytest.param(
        Case(
            (('objective: "< 800ms"', 'objective: "fast"'),),
            27,
            "slos[0].objective",
            "'< 800ms'",
            "'fast'",
        ),
        id="objective-unreadable",
    ),
    pytest.param(
        Case(
            (('objective: "< 800ms"', 'objective: "< 800"'),),
            27,
            "slos[0].objective",
            "'< 800ms'",
            "unit",
        ),
        id="latency-objective-without-unit",
    ),
    pytest.param(
        Case(
            (('objective: ">= 99.5%"', 'objective: "> 120%"'),),
            32,
            "slos[1].objective",
            "100%",
            "'> 120%'",
        ),
        id="success-rate-above-100-percent",
    ),
    pytest.param(
        Case((("phase: fault", "phase: failure"),), 28, "slos[0].phase", "recovery"),
        id="unknown-phase",
    ),
    pytest.param(
        Case(
            (("at: 1m", "at: 30s"), ("phase: fault", "phase: baseline")),
            28,
            "slos[0].phase",
            "phase 'all'",
            "no baseline",
        ),
        id="baseline-phase-without-baseline",
    ),
    pytest.param(
        Case(
            (("name: checkout-success", "name: login-p95"),),
            29,
            "slos[1].name",
            "own name",
            "slos[0]",
        ),
        id="duplicate-slo-name",
    ),
    pytest.param(
        Case((("spawn_rate: 5", "spawn_rate: 5\n  users: 20"),), 8, "load.users", "last one"),
        id="duplicate-key",
    ),
    pytest.param(
        Case(
            (('objective: ">= 99.5%"', "objective: >= 99.5%"),), 32, "", "Quote", "cannot be read"
        ),
        id="yaml-syntax-error",
    ),
    pytest.param(
        Case((("  users: 10", "\tusers: 10"),), 6, "", "tabs"),
        id="tab-indentation",
    ),
    pytest.param(
        Case((("name: smoke", "name: my smoke test"),), 2, "name", "checkout-peak"),
        id="name-with-spaces",
    ),
    pytest.param(
        Case((("    pos: 0", "    robot: 1"),), 13, "load.journeys.robot", "merchant"),
        id="unknown-journey",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_bad_edit_gives_one_located_issue_with_a_hint(smoke_text: str, case: Case) -> None:
    result = validate_text(edited(smoke_text, case.edits), FILE)

    assert result.experiment is None
    assert [(issue.line, issue.key_path) for issue in result.issues] == [(case.line, case.key_path)]
    (issue,) = result.issues
    assert case.hint_word in issue.hint
    assert case.message_word in issue.message
    assert issue.format().startswith(f"{FILE}:{case.line}:")


def test_valid_fixture_has_no_issues(smoke_text: str) -> None:
    result = validate_text(smoke_text, FILE)

    assert result.ok
    assert result.experiment is not None


def test_shape_errors_are_all_reported_in_one_pass_in_file_order(smoke_text: str) -> None:
    text = edited(
        smoke_text,
        (
            ("users: 10", "users: many"),
            ("spawn_rate: 5", "spawnrate: 5"),
            ("toxic: latency", "toxic: lag"),
            ('objective: "< 800ms"', 'objective: "fast"'),
            ("slos:", "sloss:"),
        ),
    )

    issues = validate_text(text, FILE).issues

    assert [issue.line for issue in issues] == [6, 7, 19, 23]
    assert len(issues) == 4  # 'slos' became 'sloss', so the bad objective is never reached


def test_cross_reference_errors_are_all_reported_in_one_pass(smoke_text: str) -> None:
    text = edited(
        smoke_text,
        (
            ("proxy: auth_login", "proxy: auth_logon"),
            ("jitter: 50", "jiter: 50"),
            ("request: login", "request: logon"),
            ("name: checkout-success", "name: login-p95"),
        ),
    )

    issues = validate_text(text, FILE).issues

    assert [issue.key_path for issue in issues] == [
        "faults[0].proxy",
        "faults[0].attributes.jiter",
        "slos[0].request",
        "slos[1].name",
    ]


def test_duplicate_key_is_reported_with_the_other_errors(smoke_text: str) -> None:
    text = edited(
        smoke_text, (("spawn_rate: 5", "spawn_rate: 5\n  users: 20"), ("slos:", "sloss:"))
    )

    issues = validate_text(text, FILE).issues

    assert [(issue.line, issue.key_path) for issue in issues] == [(8, "load.users"), (24, "sloss")]
    assert "lines 6 and 8" in issues[0].message


def test_missing_required_keys_point_at_their_parent() -> None:
    issues = validate_text("name: x\nload:\n  users: 1\n", FILE).issues

    # spawn_rate has a default (10 users/s) since the open model has no use for it.
    assert [(issue.line, issue.key_path) for issue in issues] == [(2, "load.duration")]
    assert "under 'load'" in issues[0].hint


@pytest.mark.parametrize(
    ("edit", "key_path"),
    [
        (("users: 10", "users: many"), "load.users"),
        (("request: login", "request: x"), "slos[0].request"),
    ],
    ids=["shape", "reference"],
)
def test_every_issue_is_one_line_with_a_full_sentence(
    smoke_text: str, edit: tuple[str, str], key_path: str
) -> None:
    # One edit at a time: a shape issue stops validation before references are checked.
    issues = validate_text(edited(smoke_text, (edit,)), FILE).issues

    assert [issue.key_path for issue in issues] == [key_path]
    for issue in issues:
        formatted = issue.format()
        assert "\n" not in formatted
        assert issue.message[0].isupper() and issue.message.endswith(".")
        assert "errors.pydantic.dev" not in formatted and "Value error" not in formatted


NO_FAULTS = """\
name: calm
load: {users: 5, spawn_rate: 1, duration: 2m}
slos:
  - {name: login-ok, request: login, metric: success_rate, objective: ">= 99%", phase: PHASE}
"""


@pytest.mark.parametrize("phase", ["fault", "recovery"])
def test_fault_phases_need_a_fault(phase: str) -> None:
    (issue,) = validate_text(NO_FAULTS.replace("PHASE", phase), FILE).issues

    assert (issue.line, issue.key_path) == (4, "slos[0].phase")
    assert "no faults" in issue.message
    assert "Add a fault" in issue.hint


def test_recovery_phase_needs_time_after_the_last_fault() -> None:
    text = """\
name: no-recovery
load: {users: 5, spawn_rate: 1, duration: 2m}
faults:
  - {at: 1m, duration: 1m, proxy: auth_login, toxic: down}
slos:
  - {name: recovers, request: login, metric: p95, objective: "< 1s", phase: recovery}
"""
    (issue,) = validate_text(text, FILE).issues

    assert (issue.line, issue.key_path) == (6, "slos[0].phase")
    assert "no recovery" in issue.message


def test_stages_must_end_in_order_and_within_the_run() -> None:
    text = """\
name: staged
load:
  users: 5
  spawn_rate: 1
  duration: 10m
  stages:
    - {until: 5m, users: 5, spawn_rate: 1}
    - {until: 2m, users: 9, spawn_rate: 1}
    - {until: 11m, users: 1, spawn_rate: 1}
"""
    issues = validate_text(text, FILE).issues

    assert [(issue.line, issue.key_path) for issue in issues] == [
        (8, "load.stages[1].until"),
        (9, "load.stages[2].until"),
    ]
    assert "5m" in issues[0].message
    assert "10m" in issues[1].message


def test_faults_on_different_streams_may_overlap() -> None:
    text = """\
name: both-ways
load: {users: 5, spawn_rate: 1, duration: 5m}
faults:
  - {at: 1m, duration: 1m, proxy: auth_login, toxic: latency, attributes: {latency: 50}}
  - {at: 1m, duration: 1m, proxy: auth_login, toxic: latency, attributes: {latency: 50},
     stream: upstream}
"""
    assert validate_text(text, FILE).ok


def test_down_fault_takes_no_attributes() -> None:
    text = """\
name: outage
load: {users: 5, spawn_rate: 1, duration: 5m}
faults:
  - at: 1m
    duration: 1m
    proxy: auth_introspect
    toxic: down
    attributes: {latency: 5}
"""
    (issue,) = validate_text(text, FILE).issues

    assert (issue.line, issue.key_path) == (8, "faults[0].attributes.latency")
    assert "no attributes" in issue.message
