from __future__ import annotations

from pathlib import Path

import pytest

from peakday.errors import UsageError
from peakday.platforms.base import Endpoints
from peakday.platforms.external import choose_platform, locustfile_for, non_local_targets
from peakday.spec.models import Experiment, External


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
    assert locustfile_for(experiment(), spec_file) == (tmp_path / "exp" / "shop_locust.py")
    assert locustfile_for(local, spec_file) is None


def test_endpoints_give_a_users_locustfile_every_proxy_and_its_own_host() -> None:
    endpoints = Endpoints(
        toxiproxy_api="127.0.0.1:1",
        services={"shop_front": "http://127.0.0.1:2"},
        proxies={"shop_front": "127.0.0.1:2"},
        locust_host="http://127.0.0.1:2",
    )
    assert endpoints.locust_env() == {"PEAKDAY_PROXY_SHOP_FRONT": "127.0.0.1:2"}
    assert endpoints.host_for_locust == "http://127.0.0.1:2"
