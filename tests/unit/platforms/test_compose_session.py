"""The compose platforms' shared hold on a project: ledger first, restore once, unpause first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from peakday.platforms.compose_cli import ComposeTarget, ServiceState
from peakday.platforms.compose_restore import MISSING, ComposeLedger, read_ledger
from peakday.platforms.compose_session import ComposeSession
from peakday.results.folder import RunFolder
from unit.platforms.fakes import FakeEngine, FakeToxiproxy


class FakeComposeCli:
    """ComposeCli in memory: `up` notes whether the ledger was on disk when it was called."""

    def __init__(self, engine: FakeEngine, ledger_path: Path) -> None:
        self.engine = engine
        self.ledger_path = ledger_path
        self.calls: list[str] = []
        self.ledger_written_before_up: bool | None = None

    def states(self, target: ComposeTarget) -> Mapping[str, ServiceState]:
        return {
            service: ServiceState(f"{target.project}-{service}-1", state)
            for service, state in (("toxiproxy", "running"), ("app", "running"))
        }

    def up(
        self,
        target: ComposeTarget,
        services: Sequence[str] = (),
        *,
        pull: bool = False,
        build: bool = False,
        no_deps: bool = False,
        start: bool = True,
    ) -> None:
        self.calls.append(f"up pull={pull} build={build}")
        self.ledger_written_before_up = self.ledger_path.is_file()
        for state in self.states(target).values():
            self.engine.state[state.container] = "running"

    def down(self, target: ComposeTarget) -> None:
        self.calls.append("down")
        self.engine.calls.append(("down", target.project))

    def remove(self, target: ComposeTarget, services: Sequence[str]) -> None:
        self.calls.append("remove")

    def stop(self, target: ComposeTarget, services: Sequence[str]) -> None:
        self.calls.append("stop")

    def port(self, target: ComposeTarget, service: str, port: int) -> str:
        return f"127.0.0.1:{port}"


def make_session(tmp_path: Path) -> tuple[ComposeSession, FakeComposeCli, FakeEngine]:
    folder = RunFolder(tmp_path / "run")
    engine = FakeEngine()
    cli = FakeComposeCli(engine, folder.compose_ledger)
    return ComposeSession(folder, cli, engine, FakeToxiproxy), cli, engine


def brought_up_ledger(tmp_path: Path) -> ComposeLedger:
    return ComposeLedger(
        project="peakday-r1",
        user_file=str(tmp_path / "docker-compose.yml"),
        override_file=str(tmp_path / "override.yml"),
        found={"toxiproxy": MISSING, "app": MISSING},
        touched=(),
        networks=(),
    )


def test_up_writes_the_ledger_before_the_project_comes_up(tmp_path: Path) -> None:
    session, cli, _ = make_session(tmp_path)
    ledger = brought_up_ledger(tmp_path)

    target = session.up(ledger, pull=True)

    assert cli.ledger_written_before_up is True
    assert cli.calls == ["up pull=True build=False"]
    assert target == ledger.with_override
    assert session.containers == {"toxiproxy": "peakday-r1-toxiproxy-1", "app": "peakday-r1-app-1"}
    assert read_ledger(session.folder.compose_ledger) == ledger


def test_restore_unpauses_first_marks_the_ledger_and_runs_once(tmp_path: Path) -> None:
    session, cli, engine = make_session(tmp_path)
    session.up(brought_up_ledger(tmp_path))
    session.services().pause("app")

    done = session.restore()
    again = session.restore()

    assert done == ["brought project 'peakday-r1' down (peakday brought it up)"]
    assert engine.calls == [("pause", "peakday-r1-app-1"), ("unpause", "peakday-r1-app-1"),
                            ("down", "peakday-r1")]  # fmt: skip
    assert read_ledger(session.folder.compose_ledger).restored is True
    assert again == []
    assert cli.calls.count("down") == 1


def test_toxiproxy_is_there_only_between_connect_and_restore(tmp_path: Path) -> None:
    session, _, _ = make_session(tmp_path)
    with pytest.raises(RuntimeError, match="not started"):
        session.toxiproxy()
    session.up(brought_up_ledger(tmp_path))

    session.connect_toxiproxy("127.0.0.1:32768")

    client = session.toxiproxy()
    assert isinstance(client, FakeToxiproxy)
    assert client.address == "127.0.0.1:32768"
    session.restore()
    with pytest.raises(RuntimeError, match="not started"):
        session.toxiproxy()


def test_resource_probe_reads_only_the_services_asked_for(tmp_path: Path) -> None:
    session, _, _ = make_session(tmp_path)
    session.up(brought_up_ledger(tmp_path))

    readings = session.resource_probe({"app"}).read()

    assert set(readings) == {"app"}
