"""Property-based API tests: schemathesis generates requests from each storefront service's own
OpenAPI schema (served at /openapi.json by a real process) and checks every response against it.
No fault is injected, so any 5xx is a bug.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from integration.test_storefront_processes import Storefront
from peakday.storefront.idempotency import idempotency_key_problem

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Enough to reach the validation and business-rule branches of each operation while keeping the
# whole file well under a minute on a 2-core CI machine.
EXAMPLES_PER_OPERATION = 60
REQUEST_TIMEOUT_S = 10.0
IDEMPOTENCY_KEY = "Idempotency-Key"


def login(auth_url: str, username: str) -> str:
    response = httpx.post(
        f"{auth_url}/login", json={"username": username, "password": f"pw-{username}"}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture(scope="module")
def storefront(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """auth, checkout and labels as real processes; yields their base URLs by name."""
    running = Storefront(tmp_path_factory.mktemp("storefront"))
    try:
        auth = running.start("auth")
        to_auth = ("--auth-url", auth.url)
        urls = {
            "auth": auth.url,
            "checkout": running.start("checkout", *to_auth).url,
            "labels": running.start("labels", *to_auth).url,
        }
        yield urls
    finally:
        running.kill_all()


def load_schema(url: str) -> Any:
    return schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=REQUEST_TIMEOUT_S)


def with_fresh_idempotency_key(case: Any) -> None:
    """Replace a valid generated Idempotency-Key with a fresh one; leave a missing or bad one.

    The generated keys are short and repeat across examples ("0", "A", ...). A reused key with a
    different body is answered 422 by design (the IETF Idempotency-Key draft: "reuse of a key with
    a different payload"), and a reused key with the same body replays the first response; both
    are correct, but schemathesis cannot know what the server remembers and would report them as
    failed conformance checks. A fresh UUID keeps each case independent, and a missing or invalid
    key is left as generated, so negative cases still reach the 400 path.
    """
    key = (case.headers or {}).get(IDEMPOTENCY_KEY)
    if key is not None and idempotency_key_problem(key, required=True) is None:
        case.headers = {**case.headers, IDEMPOTENCY_KEY: str(uuid.uuid4())}


def call_and_validate(case: Any, token: str | None) -> None:
    # The token goes in as an explicit header, not into the case: schemathesis then treats it as
    # real credentials and probes the operation without it and with a bad one (expecting 401),
    # instead of taking it for generated (likely invalid) auth that should have been refused.
    auth = {"Authorization": f"Bearer {token}"} if token is not None else None
    response = case.call(headers=auth, timeout=REQUEST_TIMEOUT_S)
    assert response.status_code < 500, (
        f"{case.method} {case.path} answered {response.status_code}: {response.text[:500]}\n"
        f"Reproduce with: {case.as_curl_command(headers=auth)}"
    )
    case.validate_response(response, headers=auth)


def has_inputs(operation: Any) -> bool:
    return any(True for _ in operation.iter_parameters()) or len(operation.body) > 0


SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)

# (service, account whose token signs the requests; None for auth, which takes no token)
SERVICES = [("auth", None), ("checkout", "shopper-000"), ("labels", "merchant-000")]


# schemathesis' own lazy pytest integration (`schemathesis.pytest.from_fixture`) breaks on
# pytest 9 (it reads `Function._nodeid`), and `schema.parametrize()` needs the schema at
# collection time, before the services exist; so each operation's strategy is driven here.
@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
@pytest.mark.parametrize(("service", "account"), SERVICES, ids=[name for name, _ in SERVICES])
def test_no_generated_request_gets_a_5xx_or_breaks_the_schema(
    storefront: dict[str, str], service: str, account: str | None, mode: GenerationMode
) -> None:
    token = login(storefront["auth"], account) if account is not None else None
    schema = load_schema(storefront[service])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"{service} documents no operation"

    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not has_inputs(operation):
            continue  # e.g. GET /health: there is nothing to make invalid

        @SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            with_fresh_idempotency_key(case)
            call_and_validate(case, token)

        check()


def test_schemas_document_the_business_operations(storefront: dict[str, str]) -> None:
    """Guards against a vacuous pass: every service documents its business operations."""
    paths = {name: set(load_schema(url).raw_schema["paths"]) for name, url in storefront.items()}
    assert {"/login", "/introspect"} <= paths["auth"]
    assert {"/checkout", "/orders/{order_id}"} <= paths["checkout"]
    assert {"/labels", "/labels/{label_id}"} <= paths["labels"]
