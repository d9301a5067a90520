"""What peakday changed in a user's Compose project, and how it is undone.

The ledger is written into the run folder before anything changes, so both the run's teardown
and `peakday clean` (after a SIGKILL) restore the project the same way: a project peakday
brought up is brought down; otherwise peakday's Toxiproxy goes, the services the override
changed are recreated from the user's file alone, services peakday started are stopped (or
removed, if they had no container), and peakday's networks are removed. Containers of the
user's that the override did not touch are left as they were found.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from peakday.experiment.compose_checks import TOXIPROXY_SERVICE
from peakday.platforms.compose_cli import ComposeCli, ComposeTarget
from peakday.platforms.docker_client import ContainerEngine
from peakday.results.folder import RunFolder

MISSING = "missing"


@dataclass(frozen=True)
class ComposeLedger:
    project: str
    user_file: str
    override_file: str
    found: Mapping[str, str]  # service -> state before the run (or "missing")
    touched: tuple[str, ...]  # services the override changes
    networks: tuple[str, ...]  # full names of the networks the override adds
    orchestrator_pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    restored: bool = False

    @property
    def brought_up(self) -> bool:
        """Nothing of the project existed: peakday brought it up, so it brings it down."""
        return all(state == MISSING for state in self.found.values())

    @property
    def user(self) -> ComposeTarget:
        return ComposeTarget(self.project, (Path(self.user_file),))

    @property
    def with_override(self) -> ComposeTarget:
        return ComposeTarget(self.project, (Path(self.user_file), Path(self.override_file)))


def write_ledger(folder: RunFolder, ledger: ComposeLedger) -> None:
    folder.write_compose_file(folder.compose_ledger, json.dumps(asdict(ledger), indent=2) + "\n")


def read_ledger(path: Path) -> ComposeLedger:
    raw = json.loads(path.read_text())
    return ComposeLedger(
        project=str(raw["project"]),
        user_file=str(raw["user_file"]),
        override_file=str(raw["override_file"]),
        found={str(k): str(v) for k, v in raw["found"].items()},
        touched=tuple(raw["touched"]),
        networks=tuple(raw["networks"]),
        orchestrator_pid=int(raw["orchestrator_pid"]),
        host=str(raw["host"]),
        restored=bool(raw["restored"]),
    )


def restore(ledger: ComposeLedger, cli: ComposeCli, engine: ContainerEngine) -> list[str]:
    """Undo the run's changes to the project; returns what was done, one line each."""
    done: list[str] = []
    if ledger.brought_up:
        cli.down(ledger.with_override)
        done.append(f"brought project {ledger.project!r} down (peakday brought it up)")
    else:
        now = cli.states(ledger.with_override)
        if TOXIPROXY_SERVICE in now:
            engine.remove(now[TOXIPROXY_SERVICE].container)
            done.append(f"removed {now[TOXIPROXY_SERVICE].container}")
        running = [s for s in ledger.touched if ledger.found.get(s) == "running"]
        if running:
            cli.up(ledger.user, running, no_deps=True)
            done.append(f"recreated {', '.join(running)} from {ledger.user_file} alone")
        stopped = [
            s for s in ledger.touched if ledger.found.get(s, MISSING) not in ("running", MISSING)
        ]
        if stopped:
            cli.up(ledger.user, stopped, no_deps=True, start=False)
            done.append(f"recreated {', '.join(stopped)} from {ledger.user_file}, not started")
        started = [s for s in now if s != TOXIPROXY_SERVICE and ledger.found.get(s) != "running"]
        never = [s for s in started if ledger.found.get(s, MISSING) == MISSING]
        if never:
            cli.remove(ledger.user, never)
            done.append(f"removed {', '.join(never)} (they had no container before)")
        idle = [s for s in started if s not in never and s not in stopped]
        if idle:
            cli.stop(ledger.user, idle)
            done.append(f"stopped {', '.join(idle)} (stopped before)")
    for network in ledger.networks:
        if engine.remove_network(network):
            done.append(f"removed network {network}")
    return done


def mark_restored(path: Path, ledger: ComposeLedger) -> None:
    """Record that the ledger at `path` (a run folder's compose ledger) has been undone."""
    write_ledger(RunFolder(path.parent.parent), replace(ledger, restored=True))
