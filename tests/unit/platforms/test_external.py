from __future__ import annotations

from pathlib import Path

import pytest

from peakday.assets import STOREFRONT_LOCUSTFILE
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
    assert locustfile_for(local, spec_file, tmp_path) == STOREFRONT_LOCUSTFILE


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


# --- fixed listen addresses and the user's own Toxiproxy --------------------------------------

OWN_SPEC = """\
name: mine
platform: external
external:
  upstreams: {shop: "127.0.0.1:8080", sessions: "127.0.0.1:6379"}
  proxies:
PROXIES
  locustfile: shop_locust.py
  host: shop_front
TOXIPROXY
load:
  users: 2
  duration: 10s
"""


def own_spec(proxies: str, toxiproxy: str = "", allow: bool = False) -> str:
    extra = toxiproxy + ("  allow_non_local_targets: true\n" if allow else "")
    return OWN_SPEC.replace("PROXIES\n", proxies).replace("TOXIPROXY\n", extra)


def test_short_long_and_existing_proxy_forms_and_a_toxiproxy_api_validate() -> None:
    from peakday.experiment.models import ProxyEntry, ToxiproxyServer
    from peakday.experiment.validate import validate_text

    checked = validate_text(
        own_spec(
            "    shop_front: shop\n"
            "    redis_sessions: {upstream: sessions, listen: '127.0.0.1:16379'}\n"
            "    edge: {existing: true}\n",
            "  toxiproxy: {api: 'http://127.0.0.1:8474'}\n",
        ),
        "mine.yaml",
    )
    assert checked.experiment is not None, checked.issues
    external = checked.experiment.external
    assert external is not None
    assert external.proxies == {
        "shop_front": ProxyEntry(upstream="shop"),
        "redis_sessions": ProxyEntry(upstream="sessions", listen="127.0.0.1:16379"),
        "edge": ProxyEntry(existing=True),
    }
    assert external.toxiproxy == ToxiproxyServer(api="http://127.0.0.1:8474")
    assert (external.toxiproxy.host, external.toxiproxy.port) == ("127.0.0.1", 8474)


@pytest.mark.parametrize(
    ("proxies", "toxiproxy", "line", "key_path", "message", "hint"),
    [
        ("    shop_front: {upstream: shop, listen: '127.0.0.1:99999'}\n", "", 6,
         "external.proxies.shop_front.listen", "port from 1 to 65535", "listen: '127.0.0.1:"),
        ("    shop_front: {upstream: shop, listen: '0.0.0.0:16379'}\n", "", 6,
         "external.proxies.shop_front.listen", "other machines can reach",
         "--allow-non-local"),
        ("    shop_front: {upstream: shop, listen: '127.0.0.1:16379'}\n"
         "    other: {upstream: shop, listen: '127.0.0.1:16379'}\n", "", 7,
         "external.proxies.other.listen", "would both listen", "its own port"),
        ("    shop_front: {upstream: shop, listen: '127.0.0.1:8080'}\n", "", 6,
         "external.proxies.shop_front.listen", "forward to itself", "another port"),
        ("    shop_front: {upstream: shp}\n", "", 6, "external.proxies.shop_front.upstream",
         "unknown upstream 'shp'", "Did you mean 'shop'"),
        ("    shop_front: {listen: '127.0.0.1:16379'}\n", "", 6, "external.proxies.shop_front",
         "names no upstream", "existing: true"),
        ("    shop_front: {upstream: shop, lisen: '127.0.0.1:1'}\n", "", 6,
         "external.proxies.shop_front.lisen", "Unknown key 'lisen'", "Did you mean 'listen'"),
        ("    shop_front: 5\n", "", 6, "external.proxies.shop_front",
         "an upstream name or a mapping", "{upstream: shop, listen:"),
        ("    shop_front: shop\n    edge: {existing: true}\n", "", 7,
         "external.proxies.edge.existing", "holds no proxy before the run",
         "toxiproxy: {api:"),
        ("    shop_front: shop\n    edge: {existing: true, listen: '127.0.0.1:1'}\n",
         "  toxiproxy: {api: 'http://127.0.0.1:8474'}\n", 7, "external.proxies.edge.listen",
         "listens where it already does", "Remove listen"),
        ("    shop_front: shop\n", "  toxiproxy: docker\n", 9, "external.toxiproxy",
         "docker is not supported", "toxiproxy: {api: 'http://127.0.0.1:8474'}"),
        ("    shop_front: shop\n", "  toxiproxy: '127.0.0.1:18474'\n", 9, "external.toxiproxy",
         "Unknown Toxiproxy '127.0.0.1:18474'", "{api: 'http://127.0.0.1:18474'}"),
        ("    shop_front: shop\n", "  toxiproxy: {api: 'https://127.0.0.1:8474'}\n", 9,
         "external.toxiproxy.api", "http://host:port URL", "default port is 8474"),
        ("    shop_front: shop\n", "  toxiproxy: {apl: 'http://127.0.0.1:8474'}\n", 9,
         "external.toxiproxy.apl", "Unknown key 'apl'", "Did you mean 'api'?"),
        ("    shop_front: shop\n", "  toxiproxy: {api: 'http://10.0.0.5:8474'}\n", 9,
         "external.toxiproxy.api", "not on this machine", "--allow-non-local"),
    ],
    ids=["bad-port", "non-local-listen", "same-listen", "listen-on-upstream", "unknown-upstream",
         "no-upstream", "misspelt-key", "not-a-mapping", "existing-needs-own-server",
         "existing-with-listen", "docker", "bare-address", "https", "misspelt-api",
         "non-local-api"],
)  # fmt: skip
def test_bad_proxy_and_toxiproxy_settings_are_reported_at_their_line(
    proxies: str, toxiproxy: str, line: int, key_path: str, message: str, hint: str
) -> None:
    from peakday.experiment.validate import validate_text

    checked = validate_text(own_spec(proxies, toxiproxy), "mine.yaml")
    assert [(i.file, i.line, i.key_path) for i in checked.issues] == [
        ("mine.yaml", line, key_path)
    ], checked.issues


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


@pytest.mark.parametrize(
    ("proxies", "toxiproxy", "named"),
    [
        ("    shop_front: {upstream: shop, listen: '0.0.0.0:16379'}\n", "",
         "proxy shop_front listening on 0.0.0.0:16379"),
        ("    shop_front: shop\n", "  toxiproxy: {api: 'http://10.0.0.5:8474'}\n",
         "toxiproxy (http://10.0.0.5:8474)"),
    ],
    ids=["listen", "api"],
)  # fmt: skip
def test_non_local_listen_and_api_need_both_yeses(proxies: str, toxiproxy: str, named: str) -> None:
    from peakday.experiment.validate import validate_text

    checked = validate_text(own_spec(proxies, toxiproxy, allow=True), "mine.yaml")
    assert checked.experiment is not None, checked.issues
    with pytest.raises(UsageError, match="--allow-non-local on the command line") as refused:
        choose_platform(checked.experiment, None, allow_non_local=False)
    assert named in str(refused.value)
    assert choose_platform(checked.experiment, None, allow_non_local=True).external is not None


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
