"""ScopedToxiproxy and its ledger against a fake server holding the user's own proxies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peakday.errors import ToxiproxyError
from peakday.experiment.models import Fault
from peakday.faults.injector import FaultInjector
from peakday.faults.ledger import (
    LedgerEntry,
    ToxiproxyLedger,
    ledger_pointer_name,
    ledgers_in_registry,
    outstanding,
    read_ledger,
    undo_outstanding,
)
from peakday.faults.scoped import ScopedToxiproxy
from peakday.faults.toxiproxy import ProxyState, ToxicSpec
from unit.platforms.fakes import FakeToxiproxyServer

API = "http://127.0.0.1:8474"


def toxic(name: str) -> ToxicSpec:
    return ToxicSpec(name, "latency", "downstream", 1.0, {"latency": 100})


@pytest.fixture
def server() -> FakeToxiproxyServer:
    """The user's server before the run: two proxies of theirs, one with their own toxic."""
    fake = FakeToxiproxyServer()
    fake.state["user_db"] = ProxyState("user_db", "127.0.0.1:15432", "db:5432", True, ("theirs",))
    fake.state["shared_edge"] = ProxyState(
        "shared_edge", "127.0.0.1:18080", "app:8080", True, ("user_slow",)
    )
    return fake


def scoped(server: FakeToxiproxyServer, tmp_path: Path) -> ScopedToxiproxy:
    ledger = ToxiproxyLedger(tmp_path / "run" / "toxiproxy-ledger.jsonl", tmp_path / "registry")
    return ScopedToxiproxy(server, ledger, API)


def test_reset_and_release_undo_only_the_runs_own_proxies_and_toxics(
    server: FakeToxiproxyServer, tmp_path: Path
) -> None:
    before = server.proxies()
    api = scoped(server, tmp_path)
    assert api.create_proxy("items_front", "127.0.0.1:16379", "127.0.0.1:8080") == (
        "127.0.0.1:16379"
    )
    assert api.adopt_proxy("shared_edge") == "127.0.0.1:18080"
    api.add_toxic("items_front", toxic("peakday-0-latency-downstream"))
    api.add_toxic("shared_edge", toxic("peakday-1-latency-downstream"))
    api.set_enabled("shared_edge", False)
    assert api.active_toxics() == {
        "items_front": ["peakday-0-latency-downstream"],
        "shared_edge": ["peakday-1-latency-downstream", "disabled"],
    }
    api.reset()
    assert ("reset", "*") not in server.calls
    assert server.state["shared_edge"] == before["shared_edge"]
    assert server.state["items_front"].toxics == ()
    assert api.active_toxics() == {"items_front": [], "shared_edge": []}
    api.release()
    assert server.proxies() == before


def test_active_toxics_ignore_the_users_toxics_and_the_users_disabled_proxy(
    server: FakeToxiproxyServer, tmp_path: Path
) -> None:
    api = scoped(server, tmp_path)
    api.adopt_proxy("shared_edge")
    server.set_enabled("shared_edge", False)  # the user's doing, not the run's
    assert api.active_toxics() == {"shared_edge": []}
    api.release()
    assert server.state["shared_edge"].enabled is False, "not the run's to enable"


def test_the_injector_rollback_fallback_resets_only_the_runs_toxics(
    server: FakeToxiproxyServer, tmp_path: Path
) -> None:
    api = scoped(server, tmp_path)
    api.create_proxy("items_front", "127.0.0.1:16379", "127.0.0.1:8080")
    fault = Fault(at=1, duration=2, proxy="items_front", toxic="latency", attributes={"latency": 9})
    recorded: list[object] = []
    injector = FaultInjector(api, [fault], record=recorded.append)
    injector.apply(0)
    del server.state["items_front"]  # gone under the run: removing its toxic fails
    injector.rollback_all()  # ... so the injector falls back to a reset
    assert getattr(recorded[-1], "detail", None) == "reset"
    assert server.state["user_db"].toxics == ("theirs",)
    assert server.state["shared_edge"].toxics == ("user_slow",)


@pytest.mark.parametrize(
    ("act", "message"),
    [
        (lambda api: api.create_proxy("user_db", "127.0.0.1:1", "x:1"), "already has a proxy"),
        (lambda api: api.adopt_proxy("nope"), "has no proxy named 'nope'"),
        (lambda api: api.add_toxic("user_db", toxic("t")), "not one of this run's"),
        (lambda api: api.remove_toxic("user_db", "theirs"), "not one of this run's"),
        (lambda api: api.set_enabled("user_db", False), "not one of this run's"),
    ],
    ids=["create-over-users", "adopt-missing", "add", "remove", "disable"],
)
def test_the_users_proxies_are_refused_unless_adopted(
    server: FakeToxiproxyServer, tmp_path: Path, act: object, message: str
) -> None:
    before = server.proxies()
    api = scoped(server, tmp_path)
    with pytest.raises(ToxiproxyError, match=message):
        act(api)  # type: ignore[operator]
    assert server.proxies() == before


def test_a_toxic_name_the_user_already_has_on_an_adopted_proxy_is_refused(
    server: FakeToxiproxyServer, tmp_path: Path
) -> None:
    api = scoped(server, tmp_path)
    api.adopt_proxy("shared_edge")
    with pytest.raises(ToxiproxyError, match="did not add"):
        api.add_toxic("shared_edge", toxic("user_slow"))
    api.release()
    assert server.state["shared_edge"].toxics == ("user_slow",), "the user's toxic stays"


def test_the_ledger_is_written_before_each_change_and_read_back_after_a_kill(
    server: FakeToxiproxyServer, tmp_path: Path
) -> None:
    before = server.proxies()
    api = scoped(server, tmp_path)
    api.create_proxy("items_front", "127.0.0.1:16379", "127.0.0.1:8080")
    api.adopt_proxy("shared_edge")
    api.add_toxic("shared_edge", toxic("peakday-1-latency-downstream"))
    api.set_enabled("shared_edge", False)
    path = tmp_path / "run" / "toxiproxy-ledger.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["kind"] for line in lines] == [
        "server", "proxy_created", "proxy_adopted", "toxic_added", "proxy_disabled",
    ]  # fmt: skip
    assert lines[0]["api"] == API and lines[0]["orchestrator_pid"] > 0
    assert ledgers_in_registry(tmp_path / "registry") == [path.resolve()]
    # ... the run is SIGKILLed here; `peakday clean` reads the ledger afresh.
    later = ToxiproxyLedger(path, tmp_path / "registry")
    pending = later.outstanding()
    assert dict(pending.created) == {"items_front": "127.0.0.1:8080"}
    assert pending.toxics == (("shared_edge", "peakday-1-latency-downstream"),)
    assert pending.disabled == ("shared_edge",)
    done = undo_outstanding(server, later, delete_created=True)
    assert server.proxies() == before
    assert ("proxy", "items_front -> 127.0.0.1:8080") in done
    assert later.outstanding().empty
    later.close_if_done()
    assert not (tmp_path / "registry" / ledger_pointer_name(path)).exists()
    assert undo_outstanding(server, ToxiproxyLedger(path), delete_created=True) == []


def test_a_proxy_of_the_same_name_but_another_upstream_is_someone_elses_now(
    server: FakeToxiproxyServer, tmp_path: Path
) -> None:
    api = scoped(server, tmp_path)
    api.create_proxy("items_front", "127.0.0.1:16379", "127.0.0.1:8080")
    server.state["items_front"] = ProxyState("items_front", "127.0.0.1:1", "other:1", True, ())
    api.release()
    assert "items_front" in server.state


def test_outstanding_folds_the_lines_and_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    entries = [
        LedgerEntry("server", api=API, orchestrator_pid=7),
        LedgerEntry("proxy_created", proxy="a", upstream="u:1"),
        LedgerEntry("toxic_added", proxy="a", toxic="t1"),
        LedgerEntry("toxic_added", proxy="b", toxic="t2"),
        LedgerEntry("toxic_removed", proxy="b", toxic="t2"),
        LedgerEntry("proxy_disabled", proxy="b"),
    ]
    path.write_text("".join(e.to_json() + "\n" for e in entries) + '{"kind": "toxic_ad')
    assert read_ledger(path) == entries
    pending = outstanding(entries)
    assert (pending.api, pending.orchestrator_pid) == (API, 7)
    assert pending.toxics == (("a", "t1"),) and pending.disabled == ("b",)
    deleted = outstanding([*entries, LedgerEntry("proxy_deleted", proxy="a")])
    assert dict(deleted.created) == {} and deleted.toxics == ()
