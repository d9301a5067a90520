"""Finds and removes what crashed runs left: containers and networks by label, processes by pid
file (each run's pids.json, found through the registry, the given folders and container labels),
and the proxies and toxics a run made on the user's own Toxiproxy server, by its ledger.

A run whose orchestrating process is still alive on this host is left alone unless asked.
Removing a Toxiproxy server (process or container) removes every toxic it held.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from peakday.faults.ledger import ToxiproxyLedger, ledgers_in_registry, undo_outstanding
from peakday.faults.toxiproxy import ToxiproxyHttpClient, ToxiproxyServerApi
from peakday.images.build import MANAGED_LABEL
from peakday.platforms.docker_client import ContainerEngine
from peakday.platforms.docker_names import HOST_LABEL, PID_LABEL, RUN_DIR_LABEL, RUN_LABEL
from peakday.results.folder import PIDS_FILE, TOXIPROXY_LEDGER_FILE, RunFolder

# How long `peakday clean` waits for the processes it SIGKILLed to be gone.
KILLED_EXIT_WAIT_S = 10.0

Kind = Literal["container", "network", "process", "proxy", "toxic", "project"]


@dataclass(frozen=True)
class Cleaned:
    kind: Kind
    name: str
    detail: str = ""


@dataclass(frozen=True)
class CleanReport:
    removed: tuple[Cleaned, ...]
    kept: tuple[Cleaned, ...]  # belongs to a run still in progress
    problems: tuple[str, ...] = ()


def _owner_alive(labels: dict[str, str] | object, pid_alive: Callable[[int], bool]) -> bool:
    if not isinstance(labels, dict):
        return False
    if labels.get(HOST_LABEL) != socket.gethostname():
        return False  # another host's run: its pid means nothing here; treat it as crashed
    try:
        return pid_alive(int(labels.get(PID_LABEL, "")))
    except ValueError:
        return False


def clean_docker(
    engine: ContainerEngine,
    *,
    include_live: bool,
    pid_alive: Callable[[int], bool],
) -> tuple[list[Cleaned], list[Cleaned], set[str]]:
    """Remove labelled run containers, then their networks. Returns removed, kept and the run
    folders named by container labels (their pid files are cleaned too)."""
    removed: list[Cleaned] = []
    kept: list[Cleaned] = []
    run_dirs: set[str] = set()
    live_runs: set[str] = set()
    for container in engine.find_containers({MANAGED_LABEL: "true", RUN_LABEL: ""}):
        labels = dict(container.labels)
        run = labels.get(RUN_LABEL, "?")
        if not include_live and _owner_alive(labels, pid_alive):
            live_runs.add(run)
            kept.append(Cleaned("container", container.name, f"run {run} is still going"))
            continue
        if labels.get(RUN_DIR_LABEL):
            run_dirs.add(labels[RUN_DIR_LABEL])
        if engine.remove(container.name):
            removed.append(Cleaned("container", container.name, f"{container.status}, run {run}"))
    for network in engine.find_networks({MANAGED_LABEL: "true", RUN_LABEL: ""}):
        run = dict(network.labels).get(RUN_LABEL, "?")
        if run in live_runs or (not include_live and _owner_alive(dict(network.labels), pid_alive)):
            kept.append(Cleaned("network", network.name, f"run {run} is still going"))
            continue
        if engine.remove_network(network.name):
            removed.append(Cleaned("network", network.name, f"run {run}"))
    return removed, kept, run_dirs


def find_pid_files(
    registry_dir: Path, folders: Iterable[Path], run_dirs: Iterable[str]
) -> list[Path]:
    """pids.json files: from registry pointers, under `folders` (3 levels deep), in run dirs."""
    found: dict[Path, None] = {}
    if registry_dir.is_dir():
        for entry in sorted(registry_dir.glob("*.json")):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                found[Path(json.loads(entry.read_text())["pid_file"])] = None
    for folder in folders:
        for pattern in (PIDS_FILE, f"*/{PIDS_FILE}", f"*/*/{PIDS_FILE}"):
            for path in folder.glob(pattern):
                found[path.resolve()] = None
    for run_dir in run_dirs:
        candidate = RunFolder(Path(run_dir)).pids
        if candidate.is_file():
            found[candidate.resolve()] = None
    return list(found)


def _matches(pid: int, argv: Sequence[str]) -> bool:
    """The live process at `pid` is the one recorded (pids are reused)."""
    import psutil

    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and process.cmdline() == list(argv)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def clean_processes(
    pid_files: Iterable[Path],
    registry_dir: Path,
    *,
    include_live: bool,
    pid_alive: Callable[[int], bool],
    matches: Callable[[int, Sequence[str]], bool] = _matches,
    kill_group: Callable[[int], None] | None = None,
    wait_s: float = KILLED_EXIT_WAIT_S,
) -> tuple[list[Cleaned], list[Cleaned]]:
    """SIGKILL the process group of every recorded child still alive, when its orchestrator is
    gone; then empty the pid file and drop its registry pointer. Returns once every killed
    child has exited (at most `wait_s`): a process takes a moment to die after SIGKILL, and
    whoever runs `peakday clean` next expects its ports free and nothing of the run alive."""
    from peakday.processes.children import registry_entry_name

    kill = kill_group or _kill_group
    killed: list[int] = []
    removed: list[Cleaned] = []
    kept: list[Cleaned] = []
    for pid_file in pid_files:
        try:
            data = json.loads(pid_file.read_text())
        except (OSError, ValueError):
            continue
        children = data.get("children") or []
        owner = int(data.get("orchestrator_pid") or 0)
        if not include_live and owner and owner != os.getpid() and pid_alive(owner):
            kept.extend(
                Cleaned("process", f"{c.get('name')} (pid {c.get('pid')})", "its run is going")
                for c in children
            )
            continue
        for child in children:
            pid = int(child.get("pid", 0))
            name = str(child.get("name", "?"))
            if pid > 0 and matches(pid, child.get("argv") or []):
                kill(pid)
                killed.append(pid)
                what = " with every toxic it held" if name == "toxiproxy" else ""
                removed.append(Cleaned("process", f"{name} (pid {pid})", f"{pid_file}{what}"))
        with contextlib.suppress(OSError):
            pid_file.write_text(json.dumps({"orchestrator_pid": owner, "children": []}))
        (registry_dir / registry_entry_name(pid_file)).unlink(missing_ok=True)
    _wait_exited(killed, pid_alive, wait_s)
    return removed, kept


def _wait_exited(pids: Sequence[int], pid_alive: Callable[[int], bool], wait_s: float) -> None:
    """Until none of `pids` is alive (a zombie counts as exited), or `wait_s` has passed."""
    deadline = time.monotonic() + wait_s
    waiting = list(pids)
    while waiting:
        waiting = [pid for pid in waiting if pid_alive(pid)]
        if not waiting or time.monotonic() >= deadline:
            return
        time.sleep(0.02)


def find_ledgers(
    registry_dir: Path, folders: Iterable[Path], pid_files: Iterable[Path]
) -> list[Path]:
    """Toxiproxy ledgers: from registry pointers, under `folders` (3 levels deep), and beside
    every pid file found."""
    found: dict[Path, None] = {path: None for path in ledgers_in_registry(registry_dir)}
    for folder in folders:
        for pattern in (TOXIPROXY_LEDGER_FILE, f"*/{TOXIPROXY_LEDGER_FILE}"):
            for path in folder.glob(pattern):
                found[path.resolve()] = None
        for path in folder.glob(f"*/*/{TOXIPROXY_LEDGER_FILE}"):
            found[path.resolve()] = None
    for pid_file in pid_files:
        candidate = RunFolder(pid_file.parent).toxiproxy_ledger
        if candidate.is_file():
            found[candidate.resolve()] = None
    return list(found)


def _connect(api: str) -> ToxiproxyServerApi:
    parsed = urlsplit(api)
    return ToxiproxyHttpClient(parsed.hostname or "127.0.0.1", parsed.port or 8474)


def clean_ledgers(
    ledgers: Iterable[Path],
    registry_dir: Path | None,
    *,
    include_live: bool,
    pid_alive: Callable[[int], bool],
    connect: Callable[[str], ToxiproxyServerApi] = _connect,
) -> tuple[list[Cleaned], list[Cleaned], list[str]]:
    """Remove what each ledger says a dead run left on the user's Toxiproxy server (its toxics,
    the proxies it created) and nothing else. Returns removed, kept and problems."""
    removed: list[Cleaned] = []
    kept: list[Cleaned] = []
    problems: list[str] = []
    for path in ledgers:
        ledger = ToxiproxyLedger(path, registry_dir)
        pending = ledger.outstanding()
        if pending.empty:
            ledger.close_if_done()
            continue
        owner = pending.orchestrator_pid
        if not include_live and owner and owner != os.getpid() and pid_alive(owner):
            kept.extend(
                Cleaned("proxy", f"{name} on {pending.api}", "its run is going")
                for name in pending.created
            )
            continue
        try:
            done = undo_outstanding(connect(pending.api), ledger, delete_created=True)
        except Exception as exc:
            problems.append(
                f"the Toxiproxy server at {pending.api} (ledger {path}) could not be cleaned: "
                f"{exc} Run 'peakday clean' again once it answers."
            )
            continue
        removed.extend(Cleaned(kind, name, f"on {pending.api}, {path}") for kind, name in done)
        ledger.close_if_done()
    return removed, kept, problems


def _kill_group(pid: int) -> None:
    for sig in (signal.SIGKILL, signal.SIGCONT):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)


def pid_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def format_clean_report(report: CleanReport) -> str:
    lines: list[str] = []
    if report.removed:
        lines.append(f"Removed {len(report.removed)}:")
        lines += [f"  {c.kind:<9} {c.name}  ({c.detail})" for c in report.removed]
    else:
        lines.append(
            "Nothing to clean: no container, network, process, or proxy or toxic on your own "
            "Toxiproxy, of a finished run."
        )
    if report.kept:
        lines.append(f"Left {len(report.kept)} of runs still in progress (use --all to remove):")
        lines += [f"  {c.kind:<9} {c.name}  ({c.detail})" for c in report.kept]
    lines += [f"Note: {problem}" for problem in report.problems]
    return "\n".join(lines)
