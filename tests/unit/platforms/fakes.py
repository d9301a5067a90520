"""In-memory stand-ins for the container engine and Toxiproxy seams."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from peakday.faults.toxiproxy import ProxyState, ToxicSpec
from peakday.platforms.docker_client import (
    ContainerSpec,
    ContainerStats,
    FoundContainer,
    FoundNetwork,
)


class FakeEngine:
    """ContainerEngine in memory; `calls` records what was asked, in order."""

    def __init__(self, never_healthy: frozenset[str] = frozenset()) -> None:
        self.networks: dict[str, dict[str, str]] = {}
        self.containers: dict[str, ContainerSpec] = {}
        self.state: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        self.never_healthy = never_healthy
        self.fail_remove: set[str] = set()

    def create_network(self, name: str, labels: Mapping[str, str]) -> None:
        self.calls.append(("create_network", name))
        self.networks[name] = dict(labels)

    def remove_network(self, name: str) -> bool:
        self.calls.append(("remove_network", name))
        return self.networks.pop(name, None) is not None

    def network_gateway(self, name: str) -> str:
        if name not in self.networks:
            raise KeyError(name)
        return "172.30.0.1"

    def run(self, spec: ContainerSpec) -> None:
        self.calls.append(("run", spec.name))
        if spec.network_of is not None and self.state.get(spec.network_of) != "running":
            raise RuntimeError(f"cannot join the network of {spec.network_of}: not running")
        self.containers[spec.name] = spec
        self.state[spec.name] = "exited" if spec.name in self.never_healthy else "running"

    def remove(self, name: str) -> bool:
        self.calls.append(("remove", name))
        if name in self.fail_remove:
            raise RuntimeError("engine hiccup")
        self.state.pop(name, None)
        return self.containers.pop(name, None) is not None

    def status(self, name: str) -> str:
        return self.state.get(name, "missing")

    def logs_tail(self, name: str, lines: int = 30) -> str:
        return f"ModuleNotFoundError in {name}"

    def act(self, name: str, action: str, grace_s: int = 2) -> None:
        self.calls.append((action, name))
        self.state[name] = {
            "kill": "exited", "stop": "exited", "start": "running", "pause": "paused",
            "unpause": "running", "restart": "running",
        }[action]  # fmt: skip

    def stats(self, name: str) -> ContainerStats | None:
        if self.state.get(name) != "running":
            return None
        return ContainerStats(2_000_000_000, 0, 4, 50_000_000)

    def find_containers(self, labels: Mapping[str, str]) -> list[FoundContainer]:
        return [
            FoundContainer(name, self.state.get(name, "missing"), dict(spec.labels))
            for name, spec in self.containers.items()
            if all(k in spec.labels and (not v or spec.labels[k] == v) for k, v in labels.items())
        ]

    def find_networks(self, labels: Mapping[str, str]) -> list[FoundNetwork]:
        return [
            FoundNetwork(name, net_labels)
            for name, net_labels in self.networks.items()
            if all(k in net_labels and (not v or net_labels[k] == v) for k, v in labels.items())
        ]


class FakeToxiproxy:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.address = f"{host}:{port}"
        self.proxies: dict[str, tuple[str, str]] = {}
        self.resets = 0

    def version(self) -> str:
        return "fake"

    def create_proxy(self, name: str, listen: str, upstream: str) -> str:
        self.proxies[name] = (listen, upstream)
        return listen

    def add_toxic(self, proxy: str, toxic: ToxicSpec) -> None: ...

    def remove_toxic(self, proxy: str, toxic_name: str) -> None: ...

    def set_enabled(self, proxy: str, enabled: bool) -> None: ...

    def reset(self) -> None:
        self.resets += 1

    def active_toxics(self) -> dict[str, list[str]]:
        return {}


class FakeToxiproxyServer:
    """A whole Toxiproxy server in memory (ToxiproxyServerApi): proxies with toxics, holding the
    user's own things beside a run's. `calls` records every change asked of it, in order."""

    def __init__(self) -> None:
        self.state: dict[str, ProxyState] = {}
        self.calls: list[tuple[str, str]] = []

    def version(self) -> str:
        return "2.12.0"

    def proxies(self) -> dict[str, ProxyState]:
        return dict(self.state)

    def create_proxy(self, name: str, listen: str, upstream: str) -> str:
        self.calls.append(("create", name))
        self.state[name] = ProxyState(name, listen, upstream, True, ())
        return listen

    def delete_proxy(self, name: str) -> None:
        self.calls.append(("delete", name))
        del self.state[name]

    def add_toxic(self, proxy: str, toxic: ToxicSpec) -> None:
        self.calls.append(("add_toxic", f"{proxy}/{toxic.name}"))
        old = self.state[proxy]
        self.state[proxy] = replace(old, toxics=tuple(sorted((*old.toxics, toxic.name))))

    def remove_toxic(self, proxy: str, toxic_name: str) -> None:
        self.calls.append(("remove_toxic", f"{proxy}/{toxic_name}"))
        old = self.state[proxy]
        self.state[proxy] = replace(old, toxics=tuple(t for t in old.toxics if t != toxic_name))

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        self.calls.append(("enable" if enabled else "disable", proxy))
        self.state[proxy] = replace(self.state[proxy], enabled=enabled)

    def reset(self) -> None:
        """What a real reset does: every toxic gone, every proxy enabled, whoever made them."""
        self.calls.append(("reset", "*"))
        self.state = {n: replace(p, enabled=True, toxics=()) for n, p in self.state.items()}

    def active_toxics(self) -> dict[str, list[str]]:
        return {n: [*p.toxics, *([] if p.enabled else ["disabled"])] for n, p in self.state.items()}
