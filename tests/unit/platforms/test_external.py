from __future__ import annotations

from pathlib import Path

import pytest

from peakday.errors import UsageError
from peakday.experiment.models import Experiment, External
from peakday.experiment.overrides import choose_platform, non_local_targets
from peakday.platforms.base import Endpoints
from peakday.runconfig import locustfile_for


def experiment(address: str = "127.0.0.1:8080", allow: bool = False) -> Experiment:
    return Experiment.model_validate(
        {
            "name": "mine",
            "platform": "external",
            "external": {
                "upstreams": {"shop": address},
                "proxies": {"shop_front": "shop"},
                "locustfile": "shop_locust.py",
                "host": "shop_front",
                "allow_non_local_targets": allow,
            },
            "load": {"users": 1, "spawn_rate": 1, "duration": 10},
        }
    )


@pytest.mark.parametrize(
    ("address", "outside"),
    [("127.0.0.1:80", False), ("localhost:80", False), ("[::1]:80", False),
     ("10.1.2.3:80", True), ("shop.example.com:443", True)],
)  # fmt: skip
def test_only_loopback_addresses_count_as_local(address: str, outside: bool) -> None:
    external = External(upstreams={"a": address}, proxies={"p": "a"}, locustfile="x.py", host="p")
    assert bool(non_local_targets(external)) is outside


def test_non_local_targets_need_both_the_spec_and_the_flag() -> None:
    with pytest.raises(UsageError, match="allow_non_local_targets: true in the experiment and"):
        choose_platform(experiment("10.0.0.1:80"), None, allow_non_local=False)
    with pytest.raises(UsageError, match="--allow-non-local on the command line"):
        choose_platform(experiment("10.0.0.1:80", allow=True), None, allow_non_local=False)
    assert choose_platform(experiment("10.0.0.1:80", allow=True), None, True).platform == "external"


def test_platform_override_and_user_locustfile(tmp_path: Path) -> None:
    local = experiment().model_copy(update={"platform": "local", "external": None})
    assert choose_platform(local, "docker", False).platform == "docker"
    with pytest.raises(UsageError, match="needs an 'external' section"):
        choose_platform(local, "external", False)
    spec_file = tmp_path / "exp" / "mine.yaml"
    assert locustfile_for(experiment(), spec_file, tmp_path) == (
        tmp_path / "exp" / "shop_locust.py"
    )
    assert locustfile_for(local, spec_file, tmp_path) == tmp_path / "locustfiles" / "storefront.py"


def test_endpoints_give_a_users_locustfile_every_proxy_and_its_own_host() -> None:
    endpoints = Endpoints(
        toxiproxy_api="127.0.0.1:1",
        services={"shop_front": "http://127.0.0.1:2"},
        proxies={"shop_front": "127.0.0.1:2"},
        locust_host="http://127.0.0.1:2",
    )
    assert endpoints.locust_env() == {"PEAKDAY_PROXY_SHOP_FRONT": "127.0.0.1:2"}
    assert endpoints.host_for_locust == "http://127.0.0.1:2"


EXTERNAL_SPEC = """\
name: mine
platform: external
external:
  upstreams: {shop: "127.0.0.1:8080"}
  proxies: {shop_front: shop}
  locustfile: shop_locust.py
  host: shop_front
EXTRA
load:
  users: 2
  duration: 10s
LOAD
slos:
  - {name: items-fast, request: items, metric: p95, objective: "< 100ms"}
stop_conditions:
  - {name: items-collapse, request: items, metric: success_rate, when: "< 50%"}
"""


def external_spec(extra: str = "", load: str = "") -> str:
    return EXTERNAL_SPEC.replace("EXTRA\n", extra).replace("LOAD\n", load)


def test_external_runs_the_locustfiles_own_classes_and_names_its_own_requests() -> None:
    from peakday.experiment.validate import validate_text
    from peakday.load.loadplan import plan_from_load
    from peakday.orchestrator import locust_user_classes

    checked = validate_text(external_spec(), "mine.yaml")
    assert checked.ok, checked.issues
    assert checked.experiment is not None
    classes = locust_user_classes(checked.experiment, runs_storefront=False)
    assert classes == {}
    assert plan_from_load(checked.experiment.load, "m.jsonl", classes).weights == {}


def test_external_user_classes_become_the_plan_weights() -> None:
    from peakday.experiment.validate import validate_text
    from peakday.load.loadplan import plan_from_load
    from peakday.orchestrator import locust_user_classes

    checked = validate_text(
        external_spec("  user_classes: {Browser: 3, Buyer: 1, Admin: 0}\n"), "mine.yaml"
    )
    assert checked.experiment is not None, checked.issues
    plan = plan_from_load(
        checked.experiment.load,
        "m.jsonl",
        locust_user_classes(checked.experiment, runs_storefront=False),
    )
    assert dict(plan.weights) == {"Browser": 3.0, "Buyer": 1.0, "Admin": 0.0}


def test_storefront_journeys_still_become_the_storefront_classes() -> None:
    from peakday.load.loadplan import plan_from_load
    from peakday.orchestrator import locust_user_classes

    local = experiment().model_copy(update={"platform": "local", "external": None})
    assert locust_user_classes(local, runs_storefront=True) is None
    weights = plan_from_load(local.load, "m.jsonl", None).weights
    assert dict(weights) == {"Shopper": 6.0, "Merchant": 2.0, "PosTerminal": 2.0}


@pytest.mark.parametrize(
    ("extra", "load", "line", "key_path", "message"),
    [
        ("", "  journeys: {shopper: 1}\n", 11, "load.journeys", "runs the user classes"),
        ("  user_classes: {'Not a class': 1}\n", "", 8, "external.user_classes['Not a class']",
         "Python identifiers"),
        ("  user_classes: {Browser: -1, Buyer: 1}\n", "", 8, "external.user_classes.Browser",
         "cannot be negative"),
        ("  user_classes: {Browser: 0}\n", "", 8, "external.user_classes", "weight 0"),
    ],
    ids=["storefront-journeys", "not-an-identifier", "negative", "all-zero"],
)  # fmt: skip
def test_nonsense_user_classes_are_reported_at_their_line(
    extra: str, load: str, line: int, key_path: str, message: str
) -> None:
    from peakday.experiment.validate import validate_text

    checked = validate_text(external_spec(extra, load), "mine.yaml")
    assert [(i.file, i.line, i.key_path) for i in checked.issues] == [
        ("mine.yaml", line, key_path)
    ], checked.issues
    assert message in checked.issues[0].message


def test_routes_reach_locust_as_the_route_table_beside_every_proxy() -> None:
    endpoints = Endpoints(
        toxiproxy_api="127.0.0.1:1",
        services={},
        proxies={"edge": "127.0.0.1:2", "edge_login": "127.0.0.1:3"},
        locust_host="http://127.0.0.1:2",
        routes={"/login": "edge_login"},
    )
    assert endpoints.locust_env() == {
        "PEAKDAY_PROXY_EDGE": "127.0.0.1:2",
        "PEAKDAY_PROXY_EDGE_LOGIN": "127.0.0.1:3",
        "PEAKDAY_ROUTES": '{"/login": "edge_login"}',
    }


def test_the_storefronts_logins_are_routed_to_auth_login() -> None:
    endpoints = Endpoints(
        toxiproxy_api="127.0.0.1:1",
        services={name: f"http://127.0.0.1:{port}" for name, port in
                  (("auth", 8101), ("checkout", 8102), ("labels", 8103))},
        proxies={"auth_login": "127.0.0.1:4", "auth_introspect": "127.0.0.1:5"},
    )  # fmt: skip
    env = endpoints.locust_env()
    assert env["PEAKDAY_ROUTES"] == '{"login": "auth_login"}'
    assert env["PEAKDAY_AUTH_URL"] == "http://127.0.0.1:4"  # for journeys run without routes


@pytest.mark.parametrize(
    ("routes", "key_path", "message", "hint"),
    [
        ("{/login: shop_frnt}", "external.routes['/login']", "unknown proxy 'shop_frnt'",
         "Did you mean 'shop_front'?"),
        ("{'http://shop/login': shop_front}", "external.routes['http://shop/login']",
         "is a URL", "Write the path only, such as '/login'"),
        ("{'/login?next=1': shop_front}", "external.routes['/login?next=1']",
         "query or fragment", "Write '/login'"),
    ],
    ids=["unknown-proxy", "url-key", "query-key"],
)  # fmt: skip
def test_bad_routes_are_reported_at_their_line_with_a_hint(
    routes: str, key_path: str, message: str, hint: str
) -> None:
    from peakday.experiment.validate import validate_text

    checked = validate_text(external_spec(f"  routes: {routes}\n"), "mine.yaml")
    assert [(i.file, i.line, i.key_path) for i in checked.issues] == [("mine.yaml", 8, key_path)], (
        checked.issues
    )
    assert message in checked.issues[0].message
    assert hint in checked.issues[0].hint


def test_routes_that_validate_are_the_ones_the_locust_side_accepts() -> None:
    from peakday.experiment.validate import validate_text
    from peakday.routes import Router, proxy_env_var, routes_env

    checked = validate_text(
        external_spec("  routes: {/login: shop_front, login: shop_front}\n"), "mine.yaml"
    )
    assert checked.ok and checked.experiment is not None, checked.issues
    external = checked.experiment.external
    assert external is not None
    environ = {**routes_env(external.routes), proxy_env_var("shop_front"): "127.0.0.1:9"}
    assert Router.from_env(environ).proxy_for("/login/x") == "shop_front"
