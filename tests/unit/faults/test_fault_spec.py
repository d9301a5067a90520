"""Validation of service faults and of the platform sections (experiment/platform_checks.py)."""

from __future__ import annotations

import pytest

from peakday.experiment.validate import validate_text

HEADER = """name: t
platform: {platform}
load: {{users: 2, spawn_rate: 2, duration: 30s, warmup: 2s}}
"""


def issues(body: str, platform: str = "local") -> list[str]:
    result = validate_text(HEADER.format(platform=platform) + body, "t.yaml")
    return [f"{i.key_path}: {i.message} {i.hint}" for i in result.issues]


def test_a_service_fault_validates() -> None:
    assert issues("faults:\n  - {at: 5s, duration: 5s, service: auth, action: kill}\n") == []


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("{at: 5s, duration: 5s, service: auht, action: kill}", "Did you mean 'auth'?"),
        ("{at: 5s, duration: 5s, service: auth}", "needs 'action'"),
        ("{at: 5s, duration: 5s, action: kill}", "needs 'service'"),
        ("{at: 5s, duration: 5s}", "neither what to break"),
        (
            "{at: 5s, duration: 5s, service: auth, action: kill, proxy: auth_login}",
            "mixes a network fault",
        ),
        ("{at: 5s, duration: 5s, service: auth, action: pause, toxicity: 0.5}", "'toxicity'"),
        ("{at: 5s, duration: 5s, proxy: auth_login}", "needs 'toxic'"),
    ],
    ids=["typo", "no-action", "no-service", "empty", "mixed", "toxic-field", "half-network"],
)
def test_bad_faults_are_named_with_a_hint(fault: str, expected: str) -> None:
    found = issues(f"faults:\n  - {fault}\n")
    assert any(expected in issue for issue in found), found


def test_two_actions_on_one_service_at_once_are_refused() -> None:
    found = issues(
        "faults:\n"
        "  - {at: 5s, duration: 5s, service: auth, action: pause}\n"
        "  - {at: 7s, duration: 5s, service: auth, action: kill}\n"
    )
    assert any("both act on service 'auth'" in issue for issue in found), found


EXTERNAL = """external:
  upstreams: {{shop: "{address}"}}
  proxies: {{shop_front: shop}}
  locustfile: shop.py
  host: shop_front
{extra}slos:
  - {{name: ok, request: "GET /", metric: success_rate, objective: ">= 99%"}}
faults:
  - {{at: 5s, duration: 5s, proxy: shop_front, toxic: down}}
"""


def test_an_external_experiment_validates_with_its_own_proxies_and_requests() -> None:
    assert issues(EXTERNAL.format(address="127.0.0.1:8080", extra=""), "external") == []


def test_non_local_targets_need_the_spec_to_allow_them() -> None:
    found = issues(EXTERNAL.format(address="10.0.0.5:80", extra=""), "external")
    assert any("not on this machine" in issue for issue in found), found
    allowed = "  allow_non_local_targets: true\n"
    assert issues(EXTERNAL.format(address="10.0.0.5:80", extra=allowed), "external") == []


def test_external_platform_refuses_service_faults_and_needs_its_section() -> None:
    found = issues(
        EXTERNAL.format(address="127.0.0.1:8080", extra="")
        + "  - {at: 12s, duration: 2s, service: auth, action: kill}\n",
        "external",
    )
    assert any("cannot run on the external platform" in issue for issue in found), found
    assert any("needs an 'external' section" in issue for issue in issues("", "external"))
