"""The compose platform's pure parts: the override file, validation of `compose:` against a
project as `docker compose config --format json` prints it, and the restore plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from peakday.experiment.compose_checks import check_project
from peakday.experiment.compose_project import ComposeProject, ComposeUnreadable, parse_project
from peakday.experiment.validate import validate_text
from peakday.experiment.yaml_lines import Locator, parse_yaml
from peakday.platforms.compose_cli import ComposeTarget, ServiceState, loopback_address, parse_ps
from peakday.platforms.compose_override import override_text, render_intercept
from peakday.platforms.compose_restore import MISSING, ComposeLedger, restore

CONFIG: dict[str, Any] = {
    "name": "shop",
    "services": {
        "web": {
            "networks": {"front": None, "back": None},
            "depends_on": {"redis": {}, "auth": {}},
        },
        "auth": {"networks": {"back": {"aliases": ["idp"]}}, "depends_on": {"db": {}}},
        "redis": {"networks": {"back": None}},
        "db": {"networks": {"data": None}},
        "sidecar": {"network_mode": "service:web"},
    },
    "networks": {"front": {}, "back": {}, "data": {}},
}
LABELS = {"org.peakday.managed": "true", "org.peakday.run": "r1"}


class _OverrideLoader(yaml.SafeLoader):
    pass


def _construct_override(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.SequenceNode):
        return {"!override": loader.construct_sequence(node, deep=True)}
    assert isinstance(node, yaml.MappingNode)
    return {"!override": loader.construct_mapping(node, deep=True)}


_OverrideLoader.add_constructor("!override", _construct_override)


def rendered(intercept: Mapping[str, int]) -> dict[str, Any]:
    found = render_intercept(
        parse_project(CONFIG),
        intercept,
        labels=LABELS,
        toxiproxy_image="peakday/toxiproxy:0.1.0",
        toxiproxy_config_path="/run/compose/toxiproxy.json",
    )
    loaded: dict[str, Any] = yaml.load(override_text(found), Loader=_OverrideLoader)
    return loaded


def test_toxiproxy_takes_the_intercepted_names_on_their_networks() -> None:
    override = rendered({"auth": 8080, "redis": 6379})
    toxiproxy = override["services"]["peakday-toxiproxy"]
    assert toxiproxy["networks"]["back"] == {"aliases": ["auth", "idp", "redis"]}
    assert "front" not in toxiproxy["networks"]  # neither service was there
    assert toxiproxy["labels"] == {**LABELS, "org.peakday.service": "peakday-toxiproxy"}
    assert toxiproxy["pull_policy"] == "never"
    assert toxiproxy["ports"] == ["127.0.0.1::8474", "127.0.0.1::8080", "127.0.0.1::6379"]


def test_an_intercepted_service_moves_to_its_own_network_replacing_its_list() -> None:
    override = rendered({"redis": 6379})
    assert override["services"]["redis"] == {
        "networks": {"!override": {"peakday-redis": {"aliases": ["peakday-upstream-redis"]}}}
    }
    assert override["networks"] == {"peakday-redis": {"labels": LABELS}}
    assert "web" not in override["services"]  # the caller is not touched


def test_what_an_intercepted_service_depends_on_stays_reachable() -> None:
    override = rendered({"auth": 8080})
    # db keeps its own network and joins auth's
    assert override["services"]["db"]["networks"] == {"data": {}, "peakday-auth": {}}
    toxiproxy = override["services"]["peakday-toxiproxy"]
    assert toxiproxy["networks"]["peakday-auth"] == {}


def test_an_intercepted_dependency_of_an_intercepted_service_goes_through_toxiproxy() -> None:
    override = rendered({"web": 80, "redis": 6379})
    toxiproxy = override["services"]["peakday-toxiproxy"]
    assert toxiproxy["networks"]["peakday-web"] == {"aliases": ["redis"]}
    assert "peakday-web" not in override["services"].get("redis", {}).get("networks", {})


def test_proxies_are_named_after_services_and_reach_the_upstream_alias() -> None:
    found = render_intercept(
        parse_project(CONFIG),
        {"redis": 6379},
        labels=LABELS,
        toxiproxy_image="img",
        toxiproxy_config_path="/x.json",
    )
    assert found.toxiproxy_config == (
        {
            "name": "redis",
            "listen": "0.0.0.0:6379",
            "upstream": "peakday-upstream-redis:6379",
            "enabled": True,
        },
    )
    assert found.touched == ("redis",)


def test_a_service_without_networks_is_on_default() -> None:
    project = parse_project({"name": "p", "services": {"a": {}, "b": {"networks": ["x"]}}})
    assert project.services["a"].networks == {"default": ()}
    assert project.services["b"].networks == {"x": ()}


COMPOSE_SPEC = """\
name: shop-rehearsal
platform: compose
compose:
  file: compose.yaml
  intercept: {redis: 6379}
  host: "web:8080"
  locustfile: locustfile.py
load:
  users: 2
  spawn_rate: 2
  duration: 20s
faults:
  - {at: 5s, duration: 5s, proxy: redis, toxic: latency, attributes: {latency: 100}}
  - {at: 12s, duration: 3s, service: redis, action: kill}
"""


def issues_for(
    text: str, tmp_path: Path, read: Any = None, make_file: bool = True
) -> list[tuple[int | None, str, str]]:
    validation = validate_text(text, "spec.yaml")
    if validation.experiment is None:
        return [(i.line, i.key_path, i.message) for i in validation.issues]
    if make_file:
        (tmp_path / "compose.yaml").write_text("services: {}\n")
    locator = Locator("spec.yaml", parse_yaml(text, "spec.yaml").lines)

    def from_config(path: Path, project: str | None) -> ComposeProject:
        return parse_project(CONFIG, [str(path)])

    found = check_project(
        validation.experiment, locator, tmp_path / "spec.yaml", read or from_config
    )
    return [(i.line, i.key_path, i.message) for i in found]


def test_a_sound_compose_spec_has_no_issues(tmp_path: Path) -> None:
    assert issues_for(COMPOSE_SPEC, tmp_path) == []


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "word"),
    [
        ("intercept: {redis: 6379}", "intercept: {redis: 6379, rediss: 1}", 5,
         "compose.intercept.rediss",
         "no service 'rediss'"),
        ('host: "web:8080"', 'host: "www:8080"', 6, "compose.host", "'www'"),
        ("service: redis, action", "service: cache, action", 14, "faults[1].service", "cache"),
        ("intercept: {redis: 6379}", "intercept: {redis: 6379, sidecar: 80}", 5,
         "compose.intercept.sidecar", "network_mode"),
    ],
    ids=["unknown-intercept", "unknown-host-service", "unknown-fault-service", "network-mode"],
)  # fmt: skip
def test_names_are_checked_against_the_project(
    old: str, new: str, line: int, key: str, word: str, tmp_path: Path
) -> None:
    found = issues_for(COMPOSE_SPEC.replace(old, new), tmp_path)
    assert len(found) == 1, found
    assert found[0][:2] == (line, key)
    assert word in found[0][2]


def test_a_missing_compose_file_is_named(tmp_path: Path) -> None:
    found = issues_for(COMPOSE_SPEC, tmp_path, make_file=False)
    assert [(line, key) for line, key, _ in found] == [(4, "compose.file")]
    assert "does not exist" in found[0][2]


def test_what_compose_refuses_is_an_issue_at_the_file(tmp_path: Path) -> None:
    def refuse(path: Path, project: str | None) -> ComposeProject:
        raise ComposeUnreadable("'docker compose config' refused it: yaml: line 3: bad")

    found = issues_for(COMPOSE_SPEC, tmp_path, read=refuse)
    assert [(line, key) for line, key, _ in found] == [(4, "compose.file")]
    assert "line 3: bad" in found[0][2]


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("platform: compose\n", "platform: local\n", "compose"),
        ("intercept: {redis: 6379}", "intercept: {redis: 6379, web: 6379}",
         "compose.intercept.web"),
        ('host: "web:8080"', 'host: "web"', "compose.host"),
        ("locustfile: locustfile.py", "locustfile: locustfile.py\n  routes: {/x: db}",
         "compose.routes['/x']"),
    ],
    ids=["section-without-platform", "same-port-twice", "host-without-port", "route-to-unknown"],
)  # fmt: skip
def test_the_section_alone_is_checked(old: str, new: str, key: str, tmp_path: Path) -> None:
    found = issues_for(COMPOSE_SPEC.replace(old, new), tmp_path)
    assert key in [k for _, k, _ in found], found


def test_ps_json_both_shapes() -> None:
    line = '{"Service": "web", "Name": "shop-web-1", "State": "running"}'
    assert parse_ps(line + "\n" + line.replace("web", "db")) == {
        "web": ServiceState("shop-web-1", "running"),
        "db": ServiceState("shop-db-1", "running"),
    }
    assert parse_ps(f"[{line}]") == {"web": ServiceState("shop-web-1", "running")}
    assert loopback_address("0.0.0.0:49153\n[::]:49153\n") == "127.0.0.1:49153"


class FakeCli:
    def __init__(self, now: Mapping[str, str]) -> None:
        self.now = now
        self.calls: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []

    def states(self, target: ComposeTarget) -> dict[str, ServiceState]:
        return {s: ServiceState(f"c-{s}", state) for s, state in self.now.items()}

    def up(self, target: ComposeTarget, services: Sequence[str] = (), **flags: bool) -> None:
        kind = "up" if flags.get("start", True) else "create"
        self.calls.append((kind, tuple(map(str, target.files)), tuple(services)))

    def down(self, target: ComposeTarget) -> None:
        self.calls.append(("down", tuple(map(str, target.files)), ()))

    def remove(self, target: ComposeTarget, services: Sequence[str]) -> None:
        self.calls.append(("rm", tuple(map(str, target.files)), tuple(services)))

    def stop(self, target: ComposeTarget, services: Sequence[str]) -> None:
        self.calls.append(("stop", tuple(map(str, target.files)), tuple(services)))

    def port(self, target: ComposeTarget, service: str, port: int) -> str:
        raise NotImplementedError


class FakeEngine:
    def __init__(self) -> None:
        self.removed: list[str] = []

    def remove(self, name: str) -> bool:
        self.removed.append(name)
        return True

    def remove_network(self, name: str) -> bool:
        self.removed.append(name)
        return True


def ledger(found: Mapping[str, str]) -> ComposeLedger:
    return ComposeLedger(
        project="shop",
        user_file="/u/compose.yaml",
        override_file="/r/override.yml",
        found=found,
        touched=("redis",),
        networks=("shop_peakday-redis",),
    )


def test_a_project_peakday_brought_up_is_brought_down_with_both_files() -> None:
    cli, engine = FakeCli({}), FakeEngine()
    restore(ledger({"web": MISSING, "redis": MISSING}), cli, engine)  # type: ignore[arg-type]
    assert cli.calls == [("down", ("/u/compose.yaml", "/r/override.yml"), ())]


def test_a_running_project_is_restored_from_the_users_file_alone() -> None:
    now = {"web": "running", "redis": "running", "db": "running", "peakday-toxiproxy": "running"}
    cli, engine = FakeCli(now), FakeEngine()
    found = {"web": "running", "redis": "running", "db": MISSING}
    restore(ledger(found), cli, engine)  # type: ignore[arg-type]
    assert cli.calls == [
        ("up", ("/u/compose.yaml",), ("redis",)),
        ("rm", ("/u/compose.yaml",), ("db",)),  # peakday started it: it had no container
    ]
    assert engine.removed == ["c-peakday-toxiproxy", "shop_peakday-redis"]


def test_the_storefront_override_moves_every_port_and_adds_admin_endpoints() -> None:
    from peakday.platforms.compose_storefront import (
        render_storefront_override,
        storefront_override_text,
    )
    from peakday.topology import storefront_topology

    topology = storefront_topology()
    text = storefront_override_text(
        render_storefront_override(
            topology,
            labels=LABELS,
            data_dirs={s: f"/run/data/{s}" for s in topology.service_names},
            storefront_extra=["--profile", "hardened"],
        )
    )
    services = yaml.load(text, Loader=_OverrideLoader)["services"]
    toxiproxy = services["toxiproxy"]
    assert toxiproxy["ports"] == {
        "!override": ["127.0.0.1::8474", "127.0.0.1::18101", "127.0.0.1::18102"]
    }
    auth = services["auth"]
    command = auth["command"]["!override"]
    assert command[:4] == ["python", "-m", "peakday.storefront", "auth"]
    assert command[command.index("--profile") + 1] == "hardened"
    assert command[command.index("--admin-port") + 1] == "9101"
    assert auth["ports"] == {"!override": ["127.0.0.1::8101", "127.0.0.1::9101"]}
    assert auth["volumes"] == ["/run/data/auth:/var/lib/peakday/auth"]
    assert auth["labels"]["org.peakday.run"] == "r1"
    checkout = services["checkout"]["command"]["!override"]
    assert checkout[checkout.index("--auth-url") + 1] == "http://toxiproxy:18102"


def test_plan_names_the_compose_proxies_and_the_users_locustfile() -> None:
    from peakday.reporting.plan import format_plan

    experiment = validate_text(COMPOSE_SPEC, "spec.yaml").experiment
    assert experiment is not None
    text = format_plan(experiment, "spec.yaml")
    assert "proxy redis -> service redis of compose.yaml" in text
    assert "fault proxies redis against compose.intercept: all defined." in text
    assert "user classes and weights as locustfile.py has them" in text
