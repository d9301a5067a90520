"""`storefront.workers`: several server processes per service, on the local platform only."""

from __future__ import annotations

import pytest

from peakday.experiment.validate import validate_text
from peakday.orchestrator import storefront_environment
from peakday.platforms.factory import workers_argv

BASE = """name: t
load: {users: 4, spawn_rate: 4, duration: 40s, warmup: 4s}
slos:
  - {name: a, request: login, metric: success_rate, objective: ">= 99%"}
"""


def issues_of(text: str) -> list[str]:
    checked = validate_text(text, "t.yaml")
    return [
        f"{issue.line} {issue.key_path}: {issue.message} ({issue.hint})" for issue in checked.issues
    ]


def test_workers_become_a_flag_for_every_service() -> None:
    checked = validate_text(BASE + "storefront: {workers: 2}\n", "t.yaml")
    assert checked.issues == ()
    assert checked.experiment is not None
    assert workers_argv(checked.experiment) == ["--workers", "2"]
    assert storefront_environment(checked.experiment)["storefront.workers"] == "2"


def test_one_worker_is_the_default_and_adds_no_flag() -> None:
    checked = validate_text(BASE, "t.yaml")
    assert checked.experiment is not None
    assert checked.experiment.storefront.workers == 1
    assert workers_argv(checked.experiment) == []


@pytest.mark.parametrize("value", ["0", "65", "1.5", "two"])
def test_out_of_range_workers_are_refused(value: str) -> None:
    issues = issues_of(BASE + f"storefront: {{workers: {value}}}\n")
    assert len(issues) == 1, issues
    assert "storefront.workers" in issues[0], issues


def test_workers_on_another_platform_are_refused_with_the_line() -> None:
    text = BASE + "platform: docker\nstorefront:\n  workers: 2\n"
    issues = issues_of(text)
    assert len(issues) == 1, issues
    assert issues[0].startswith("7 storefront.workers:"), issues
    assert "only the local platform" in issues[0]


def test_workers_refuse_service_level_faults() -> None:
    text = (
        BASE
        + "storefront: {workers: 2}\n"
        + "faults:\n  - {name: f, service: checkout, behaviour: errors, toxicity: 0.2,"
        + " at: 10s, duration: 10s}\n"
    )
    issues = issues_of(text)
    assert any("faults[0].behaviour" in i and "one worker only" in i for i in issues), issues


def test_workers_allow_network_and_process_faults() -> None:
    text = (
        BASE
        + "storefront: {workers: 2}\n"
        + "faults:\n  - {name: f, proxy: auth_login, toxic: latency, attributes: {latency: 100},"
        + " at: 10s, duration: 10s}\n"
        + "  - {name: k, service: auth, action: kill, at: 25s, duration: 5s}\n"
    )
    assert issues_of(text) == []


def test_workers_refuse_monitoring() -> None:
    issues = issues_of(BASE + "storefront: {workers: 3}\nmonitoring: prometheus\n")
    assert any(i.split(" ")[1] == "monitoring:" and "/metrics" in i for i in issues), issues
