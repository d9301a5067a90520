"""`monitoring:`, `alerts:` and `source: prometheus` in experiment files."""

from __future__ import annotations

import pytest

from peakday.experiment.validate import validate_text

BASE = """name: t
load: {users: 4, spawn_rate: 4, duration: 40s, warmup: 4s}
faults:
  - {name: boom, at: 10s, duration: 10s, service: auth, behaviour: login_errors}
"""
QUERY_SLO = 'slos:\n  - {name: q, source: prometheus, query: "sum(up)", objective: "< 5%"}\n'


def issues_of(text: str) -> list[str]:
    checked = validate_text(text, "t.yaml")
    return [f"{issue.line} {issue.key_path}: {issue.message}" for issue in checked.issues]


def test_a_server_side_slo_with_peakday_s_prometheus_is_valid() -> None:
    checked = validate_text(
        BASE + "monitoring: prometheus\n" + QUERY_SLO + "alerts: {expect: [{fault: boom, "
        "alert: LoginErrorRate}]}\n",
        "t.yaml",
    )
    assert checked.issues == ()
    assert checked.experiment is not None
    (slo,) = checked.experiment.slos
    assert (slo.request, slo.metric, slo.parsed_objective.threshold) == (
        "prometheus:q",
        "value",
        0.05,
    )
    assert checked.experiment.server_series == {"prometheus:q": "sum(up)"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            BASE + QUERY_SLO,
            "6 slos[0].source: The SLO 'q' reads Prometheus, but the experiment has no monitoring.",
        ),
        (
            BASE
            + "monitoring: prometheus\n"
            + 'slos:\n  - {name: q, source: prometheus, objective: "< 1"}\n',
            "has no PromQL query",
        ),
        (
            BASE
            + 'slos:\n  - {name: q, request: login, metric: p95, query: up, objective: "< 1s"}\n',
            "has a PromQL query but reads the load generator",
        ),
        (
            BASE + "monitoring: prometheus\nalerts: {expect: [{fault: bom, alert: A}]}\n",
            "No fault is named 'bom'",
        ),
        (
            BASE + "alerts: {expect: [{fault: boom, alert: A}]}\n",
            "alerts: needs a Prometheus server",
        ),
        (
            BASE + "monitoring: {prometheus: 'http://127.0.0.1:9090'}\nalerts: {rules: r.yml}\n",
            "evaluates the rules it was configured with",
        ),
        (BASE + "monitoring: {prometheus: '127.0.0.1:9090'}\n", "must be an http(s):// URL"),
        (
            BASE + "monitoring: prometheus\n"
            'stop_conditions:\n  - {name: s, source: prometheus, query: up, when: "> 5 rps"}\n',
            "plain number or a percentage",
        ),
    ],
    ids=[
        "no-monitoring",
        "no-query",
        "query-on-client-slo",
        "unknown-fault",
        "alerts-without-monitoring",
        "rules-with-own-server",
        "bad-url",
        "stop-condition-unit",
    ],
)
def test_bad_server_side_specs_are_one_clear_issue(text: str, expected: str) -> None:
    issues = issues_of(text)
    assert len(issues) == 1, issues
    assert expected in issues[0], issues


def test_docker_platform_takes_monitoring_prometheus() -> None:
    assert issues_of(BASE + "platform: docker\nmonitoring: prometheus\n" + QUERY_SLO) == []


def test_a_users_compose_project_refuses_monitoring_prometheus() -> None:
    text = (
        BASE
        + "platform: compose\nmonitoring: prometheus\n"
        + "compose: {file: c.yaml, intercept: {redis: 6379}, host: 'web:8000', locustfile: l.py}\n"
    )
    assert any("your own compose project does not run" in issue for issue in issues_of(text))


def test_the_storefront_on_compose_takes_monitoring_prometheus() -> None:
    # no compose section: the storefront's own compose file, scraped on its published ports
    assert issues_of(BASE + "platform: compose\nmonitoring: prometheus\n" + QUERY_SLO) == []


def test_a_query_that_does_not_parse_is_an_issue_on_its_line() -> None:
    from peakday.experiment.promql_syntax import promql_issues
    from peakday.experiment.yaml_lines import Locator, parse_yaml

    text = BASE + "monitoring: prometheus\n" + QUERY_SLO
    checked = validate_text(text, "t.yaml")
    assert checked.experiment is not None
    locator = Locator("t.yaml", parse_yaml(text, "t.yaml").lines)
    (issue,) = promql_issues(checked.experiment, locator, lambda q: "1:5: parse error: bad")
    assert (issue.line, issue.key_path) == (7, "slos[0].query")
    assert "'sum(up)'" in issue.message and "parse error: bad" in issue.message
    assert list(promql_issues(checked.experiment, locator, lambda q: None)) == []
