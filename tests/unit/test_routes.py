"""Routing a request to a proxy by its name or path (peakday.routes), with a fake environment."""

from __future__ import annotations

import subprocess
import sys

import pytest

from peakday.routes import (
    ROUTES_ENV_VAR,
    RouteError,
    Router,
    route_for,
    route_key_problem,
    routes_env,
)

ENV = {
    "PEAKDAY_ROUTES": '{"/login": "edge_login", "checkout": "edge_pay", "/api/v2": "edge_v2"}',
    "PEAKDAY_PROXY_EDGE": "127.0.0.1:40001",
    "PEAKDAY_PROXY_EDGE_LOGIN": "127.0.0.1:40002",
    "PEAKDAY_PROXY_EDGE_PAY": "127.0.0.1:40003",
    "PEAKDAY_PROXY_EDGE_V2": "127.0.0.1:40004",
}


@pytest.mark.parametrize(
    ("path", "name", "proxy"),
    [
        ("/login", None, "edge_login"),
        ("/login/", None, "edge_login"),
        ("/login/sso", None, "edge_login"),
        ("/login-help", None, None),
        ("/items", None, None),
        ("/items", "checkout", "edge_pay"),  # a name's route wins over the path
        ("/login", "checkout", "edge_pay"),
        ("/login", "items", "edge_login"),  # a name without a route: the path decides
        ("/api/v2/items", None, "edge_v2"),
        ("/api/v1/items", None, None),
        ("/checkout", None, None),  # 'checkout' is a name key, not a path
    ],
    ids=lambda value: str(value),
)
def test_a_request_goes_through_its_names_route_else_its_paths(
    path: str, name: str | None, proxy: str | None
) -> None:
    routes = {"/login": "edge_login", "checkout": "edge_pay", "/api/v2": "edge_v2"}
    assert route_for(routes, path, name) == proxy


def test_the_longest_matching_path_wins_and_slash_matches_everything() -> None:
    routes = {"/": "edge", "/api": "edge_api", "/api/login": "edge_login"}
    assert route_for(routes, "/api/login/x") == "edge_login"
    assert route_for(routes, "/api/items") == "edge_api"
    assert route_for(routes, "/items") == "edge"


def test_router_rewrites_only_the_host_of_a_routed_request() -> None:
    router = Router.from_env(ENV)
    base = "http://127.0.0.1:40001"
    assert router.url("/login?next=/a", "login", base) == "http://127.0.0.1:40002/login?next=/a"
    assert router.url("/items", "items", base) == "http://127.0.0.1:40001/items"
    assert router.url("/items", "checkout", base) == "http://127.0.0.1:40003/items"
    # absolute URLs (the storefront's) keep their scheme and path, and change host when routed
    assert router.url("http://auth:8101/login", "login") == "http://127.0.0.1:40002/login"
    assert router.url("https://shop.test/items") == "https://shop.test/items"


def test_no_route_table_routes_nothing() -> None:
    router = Router.from_env({"PEAKDAY_PROXY_EDGE": "127.0.0.1:1"})
    assert router.routes == {}
    assert router.url("/login", "login", "http://h:1") == "http://h:1/login"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PEAKDAY_ROUTES": "{nope"}, "PEAKDAY_ROUTES is not JSON"),
        ({"PEAKDAY_ROUTES": '["/login"]'}, "must be a JSON object"),
        ({"PEAKDAY_ROUTES": '{"/login": 3}'}, "must be a JSON object"),
        ({"PEAKDAY_ROUTES": '{"/login": "edge_login"}'}, "PEAKDAY_PROXY_EDGE_LOGIN is not set"),
        (
            {"PEAKDAY_ROUTES": '{"/login?x=1": "e"}', "PEAKDAY_PROXY_E": "127.0.0.1:1"},
            "path routes match the path only",
        ),
    ],
    ids=["not-json", "not-an-object", "not-a-proxy-name", "no-address", "query-in-path"],
)
def test_a_table_that_cannot_route_is_an_error_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(RouteError, match="PEAKDAY_ROUTES") as raised:
        Router.from_env(environ)
    assert message in str(raised.value)
    assert "Hint:" in str(raised.value)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("login", None),
        ("/login", None),
        ("GET /items", None),  # any Locust name
        ("", "empty"),
        (" login", "whitespace"),
        ("http://shop/login", "is a URL"),
        ("/items#top", "query or fragment"),
    ],
)
def test_route_keys_that_can_never_match_are_named(key: str, problem: str | None) -> None:
    found = route_key_problem(key)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found[0], found


def test_routes_env_is_empty_without_routes_and_round_trips_with_them() -> None:
    assert routes_env({}) == {}
    env = routes_env({"login": "edge_login"})
    assert env == {ROUTES_ENV_VAR: '{"login": "edge_login"}'}
    router = Router.from_env({**env, "PEAKDAY_PROXY_EDGE_LOGIN": "127.0.0.1:9"})
    assert router.proxy_for("/anything", "login") == "edge_login"


def test_the_orchestrator_never_imports_the_locust_side_of_routing() -> None:
    # peakday.load.locust_routes imports Locust (gevent's monkey-patching): locustfiles only.
    code = (
        "import sys, peakday.routes, peakday.orchestrator, peakday.platforms.base;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'locust', 'gevent'}"
        " or m == 'peakday.load.locust_routes');"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
