"""RoutedHttpUser inside Locust (in a subprocess: importing Locust monkey-patches with gevent).

Requests go to closed loopback ports, so each fails at once and no server is needed: the
request event still says where each request went and under which name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json
    import sys
    from locust import task
    from locust.env import Environment
    from peakday.load.locust_routes import RoutedFastHttpUser, RoutedHttpUser

    USER_CLASS = {"fast": RoutedFastHttpUser, "http": RoutedHttpUser}[sys.argv[1]]
    TIMEOUT = {"timeout": 1} if sys.argv[1] == "http" else {}

    class Shopper(USER_CLASS):
        host = "http://127.0.0.1:9"
        network_timeout = connection_timeout = 1

        @task
        def noop(self):
            pass

    print("class defined", flush=True)
    seen = []
    environment = Environment(user_classes=[Shopper])
    environment.events.request.add_listener(
        lambda name, context, response, exception, **kw: seen.append([name, kw["url"]])
    )
    user = Shopper(environment)
    user.client.post("/login", **TIMEOUT)
    user.client.get("/items?page=2", **TIMEOUT)
    user.client.get("/items", name="checkout", **TIMEOUT)
    with user.client.rename_request("checkout"):
        user.client.get("/other", **TIMEOUT)
    print(json.dumps(seen))
    """
)

ROUTED_ENV = {
    "PEAKDAY_ROUTES": json.dumps({"/login": "edge_login", "checkout": "edge_pay"}),
    "PEAKDAY_PROXY_EDGE_LOGIN": "127.0.0.1:7",
    "PEAKDAY_PROXY_EDGE_PAY": "127.0.0.1:8",
}


def run_script(
    extra_env: dict[str, str], user_class: str = "http"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEAKDAY_")}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, user_class],
        env={**env, **extra_env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("user_class", ["http", "fast"])
def test_requests_go_to_their_routes_proxy_and_keep_their_names(user_class: str) -> None:
    done = run_script(ROUTED_ENV, user_class)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen == [
        ["/login", "http://127.0.0.1:7/login"],  # by path; unnamed, so named after its path
        ["/items?page=2", "http://127.0.0.1:9/items?page=2"],  # no route: Locust's host
        ["checkout", "http://127.0.0.1:8/items"],  # by name
        ["checkout", "http://127.0.0.1:8/other"],  # by the name rename_request gives
    ]


@pytest.mark.parametrize("user_class", ["http", "fast"])
def test_a_route_without_its_proxys_address_stops_the_locustfile_at_import(
    user_class: str,
) -> None:
    done = run_script({"PEAKDAY_ROUTES": '{"/login": "edge_login"}'}, user_class)
    assert done.returncode != 0
    assert "class defined" not in done.stdout, "refused when the class is defined, not later"
    assert "RouteError" in done.stderr
    assert "PEAKDAY_PROXY_EDGE_LOGIN is not set" in done.stderr
