"""The external platform on a Toxiproxy server the user runs, fixed listen addresses, a taken
port, and `peakday clean` by ledger; against fakes at the ToxiproxyApi seam."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from peakday.errors import EnvironmentProblem
from peakday.experiment.models import External
from peakday.faults.ledger import ToxiproxyLedger
from peakday.faults.toxiproxy import ProxyState
from peakday.platforms.clean import clean_ledgers, find_ledgers, format_clean_report
from peakday.platforms.external import ExternalPlatform
from peakday.processes.children import ProcessGroup
from peakday.processes.ports import port_taken, require_free_listens
from peakday.results.folder import RunFolder
from unit.platforms.fakes import FakeToxiproxyServer

API = "http://127.0.0.1:8474"


def external(toxiproxy: object = None, **proxies: object) -> External:
    return External.model_validate(
        {
            "upstreams": {"shop": "127.0.0.1:8080"},
            "proxies": proxies,
            "locustfile": "x.py",
            "host": next(iter(proxies)),
            **({"toxiproxy": toxiproxy} if toxiproxy is not None else {}),
        }
    )


def users_server() -> FakeToxiproxyServer:
    server = FakeToxiproxyServer()
    server.state["user_db"] = ProxyState("user_db", "127.0.0.1:15432", "db:1", True, ("theirs",))
    server.state["edge"] = ProxyState("edge", "127.0.0.1:18080", "app:1", True, ())
    return server


def platform_on(
    server: FakeToxiproxyServer, spec: External, tmp_path: Path
) -> tuple[ExternalPlatform, list[tuple[str, int]]]:
    connected: list[tuple[str, int]] = []

    def connect(host: str, port: int) -> FakeToxiproxyServer:
        connected.append((host, port))
        return server

    processes = ProcessGroup(tmp_path / "pids.json")
    platform = ExternalPlatform(
        spec, tmp_path, (), processes, registry_dir=tmp_path / "registry", connect=connect
    )
    return platform, connected


def test_on_the_users_server_the_run_creates_adopts_and_then_undoes_only_its_own(
    tmp_path: Path,
) -> None:
    server = users_server()
    before = server.proxies()
    spec = external(
        {"api": API},
        shop_front={"upstream": "shop", "listen": "127.0.0.1:16379"},
        edge={"existing": True},
    )
    platform, connected = platform_on(server, spec, tmp_path)
    endpoints = platform.start()
    assert connected == [("127.0.0.1", 8474)]
    assert endpoints.toxiproxy_api == "127.0.0.1:8474"
    assert dict(endpoints.proxies) == {"shop_front": "127.0.0.1:16379", "edge": "127.0.0.1:18080"}
    assert endpoints.host_for_locust == "http://127.0.0.1:16379"
    assert server.state["shop_front"].upstream == "127.0.0.1:8080"
    assert not (tmp_path / "pids.json").exists(), "no toxiproxy-server of peakday's own"
    api = platform.toxiproxy()
    api.set_enabled("edge", False)
    api.reset()  # what the orchestrator's no-toxic-left check calls
    assert ("reset", "*") not in server.calls
    platform.stop()
    platform.stop()  # safe twice
    assert server.proxies() == before
    assert RunFolder(tmp_path).toxiproxy_ledger.is_file()


def test_a_proxy_name_the_users_server_already_has_is_refused_not_replaced(
    tmp_path: Path,
) -> None:
    server = users_server()
    platform, _ = platform_on(server, external({"api": API}, user_db="shop"), tmp_path)
    with pytest.raises(EnvironmentProblem, match="already has a proxy named 'user_db'"):
        platform.start()
    platform.stop()
    assert server.state["user_db"] == users_server().state["user_db"]


def test_a_taken_fixed_port_stops_the_local_server_before_anything_starts(
    tmp_path: Path,
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        spec = external(None, shop_front={"upstream": "shop", "listen": f"127.0.0.1:{port}"})
        platform, _ = platform_on(FakeToxiproxyServer(), spec, tmp_path)
        with pytest.raises(EnvironmentProblem) as taken:
            platform.start()
    message = str(taken.value)
    assert (
        f"'127.0.0.1:{port}'" in message and f"port {port} is held by pid {os.getpid()}" in message
    )
    assert "'shop_front'" in message and "Hint:" in message
    assert taken.value.exit_code == 3
    assert not (tmp_path / "pids.json").exists(), "toxiproxy-server was not started"


def test_port_taken_sees_a_listener_and_not_a_free_port() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert port_taken("127.0.0.1", port)
    assert not port_taken("127.0.0.1", port)
    require_free_listens({"p": f"127.0.0.1:{port}"})  # free again: no error


def make_killed_run(tmp_path: Path, owner_pid: int) -> tuple[FakeToxiproxyServer, Path]:
    """A ledger as a run killed mid-fault leaves it, written through the platform."""
    server = users_server()
    run_dir = tmp_path / "results" / "run-1"
    spec = external({"api": API}, shop_front="shop", edge={"existing": True})
    platform, _ = platform_on(server, spec, run_dir)
    platform.start()
    from peakday.faults.toxiproxy import ToxicSpec

    platform.toxiproxy().add_toxic("edge", ToxicSpec("peakday-0-x", "latency", "up", 1, {}))
    ledger = RunFolder(run_dir).toxiproxy_ledger
    text = ledger.read_text().replace(
        f'"orchestrator_pid": {os.getpid()}', f'"orchestrator_pid": {owner_pid}'
    )
    ledger.write_text(text)
    return server, ledger


def test_clean_removes_what_a_dead_run_left_on_the_users_server_and_nothing_else(
    tmp_path: Path,
) -> None:
    server, ledger = make_killed_run(tmp_path, owner_pid=999_999)
    assert "shop_front" in server.state and server.state["edge"].toxics == ("peakday-0-x",)
    found = find_ledgers(tmp_path / "registry", [tmp_path / "results"], [])
    assert found == [ledger.resolve()]
    removed, kept, problems = clean_ledgers(
        found, tmp_path / "registry", include_live=False, pid_alive=lambda pid: False,
        connect=lambda api: server,
    )  # fmt: skip
    assert server.proxies() == users_server().proxies()
    assert {(c.kind, c.name) for c in removed} == {
        ("toxic", "peakday-0-x on proxy edge"),
        ("proxy", "shop_front -> 127.0.0.1:8080"),
    }
    assert (kept, problems) == ([], [])
    assert ToxiproxyLedger(ledger).outstanding().empty
    assert "shop_front" in format_clean_report_of(removed)


def format_clean_report_of(removed: list[object]) -> str:
    from peakday.platforms.clean import CleanReport

    return format_clean_report(CleanReport(tuple(removed), ()))  # type: ignore[arg-type]


def test_clean_leaves_a_live_run_alone_and_reports_an_unreachable_server(tmp_path: Path) -> None:
    server, ledger = make_killed_run(tmp_path, owner_pid=4242)
    removed, kept, problems = clean_ledgers(
        [ledger], None, include_live=False, pid_alive=lambda pid: pid == 4242,
        connect=lambda api: server,
    )  # fmt: skip
    assert removed == [] and [c.name for c in kept] == [f"shop_front on {API}"]
    assert "shop_front" in server.state

    def unreachable(api: str) -> FakeToxiproxyServer:
        raise EnvironmentProblem(f"Toxiproxy at {api} did not answer.")

    removed, kept, problems = clean_ledgers(
        [ledger], None, include_live=True, pid_alive=lambda pid: True, connect=unreachable
    )
    assert removed == [] and len(problems) == 1
    assert API in problems[0] and "again" in problems[0]
    assert not ToxiproxyLedger(ledger).outstanding().empty, "kept for the next clean"
