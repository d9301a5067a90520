"""The `storefront:` section and service-level faults in experiment files."""

from __future__ import annotations

import pytest

from peakday.experiment.validate import validate_text
from peakday.platforms.factory import storefront_argv

BASE = """name: t
load: {users: 4, spawn_rate: 4, duration: 40s, warmup: 4s}
slos:
  - {name: a, request: login, metric: success_rate, objective: ">= 99%"}
"""


def issues_of(extra: str) -> list[str]:
    checked = validate_text(BASE + extra, "t.yaml")
    return [f"{issue.key_path}: {issue.message}" for issue in checked.issues]


def test_profile_and_knobs_become_storefront_flags() -> None:
    checked = validate_text(
        BASE + "storefront: {profile: hardened, retries: 1, auth_timeout: 250ms}\n", "t.yaml"
    )
    assert checked.issues == ()
    assert checked.experiment is not None
    argv = storefront_argv(checked.experiment)
    assert argv[:2] == ["--profile", "hardened"]
    flags = dict(zip(argv[::2], argv[1::2], strict=True))
    assert flags == {"--profile": "hardened", "--retries": "1", "--auth-timeout-s": "0.25"}, argv


def test_default_profile_is_standard_with_integrity_on() -> None:
    checked = validate_text(BASE, "t.yaml")
    assert checked.experiment is not None
    assert checked.experiment.storefront.profile == "standard"
    assert checked.experiment.storefront.integrity is True


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("{service: auth, behaviour: login_errors, attributes: {status: 503}}", None),
        ("{service: auth, behaviour: slow_user_store, attributes: {delay: 8000}}", None),
        ("{service: checkout, behaviour: errors, toxicity: 0.2}", None),
        ("{service: checkout, behaviour: login_errors}", "cannot play 'login_errors'"),
        ("{service: auth, behaviour: slow_user_store}", "needs the attribute 'delay'"),
        ("{service: auth, behaviour: errors, attributes: {status: 404}}", "must be one of"),
        ("{service: auth, behaviour: errors, attributes: {delay: 5}}", "no attribute 'delay'"),
        ("{service: auth, behaviour: errors, action: kill}", "does not go with 'behaviour'"),
        ("{behaviour: errors}", "needs 'service'"),
        ("{service: nope, behaviour: errors}", "Unknown service"),
    ],
    ids=[
        "login-errors",
        "slow-store",
        "checkout-errors",
        "wrong-service",
        "missing-delay",
        "bad-status",
        "wrong-attribute",
        "mixed-with-action",
        "no-service",
        "unknown-service",
    ],
)
def test_service_level_faults_are_checked(fault: str, expected: str | None) -> None:
    found = issues_of(f"faults:\n  - {{at: 10s, duration: 5s, {fault[1:-1]}}}\n")
    if expected is None:
        assert found == []
    else:
        assert any(expected in issue for issue in found), found


def test_a_process_fault_may_not_overlap_a_behaviour_on_the_same_service() -> None:
    found = issues_of(
        "faults:\n"
        "  - {at: 10s, duration: 10s, service: auth, behaviour: login_errors}\n"
        "  - {at: 15s, duration: 5s, service: auth, action: restart}\n"
    )
    assert any("drop its service-level fault" in issue for issue in found), found
