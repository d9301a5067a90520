"""Child processes: start in their own session, log to files, record pids, always stop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from peakday.errors import EnvironmentProblem


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    argv: tuple[str, ...]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None


def free_loopback_ports(count: int) -> list[int]:
    return free_ports(count, "127.0.0.1")


def free_ports(count: int, host: str) -> list[int]:
    """Ports the kernel says are free on `host` now ('' for every interface); all sockets are
    held until every port is chosen."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


class ProcessGroup:
    """Starts children and stops every one of them, newest first; keeps a pid file for `clean`."""

    def __init__(self, pid_file: Path, registry_dir: Path | None = None) -> None:
        self._pid_file = pid_file
        # A pointer to pid_file while children run, so `peakday clean` finds runs anywhere.
        self._registry_entry = (
            None if registry_dir is None else registry_dir / registry_entry_name(pid_file)
        )
        self._children: list[ManagedProcess] = []

    @property
    def children(self) -> tuple[ManagedProcess, ...]:
        return tuple(self._children)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> ManagedProcess:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            try:
                # Own session: the terminal's Ctrl-C reaches only the orchestrator, which then
                # rolls faults back and stops children in order.
                popen = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=dict(env) if env is not None else None,
                    cwd=cwd,
                    start_new_session=True,
                )
            except FileNotFoundError as exc:
                raise EnvironmentProblem(
                    f"Could not start {name}: {argv[0]!r} was not found. "
                    "Hint: run 'peakday tools install' (then 'peakday doctor'), or put the "
                    "binary on PATH."
                ) from exc
        child = ManagedProcess(name=name, popen=popen, log_path=log_path, argv=tuple(argv))
        self._children.append(child)
        self._write_pid_file()
        return child

    def stop(self, child: ManagedProcess, grace_s: float = 5.0) -> None:
        """SIGTERM the child's process group, SIGKILL it after `grace_s`, reap it."""
        if child.alive():
            _signal_group(child.pid, signal.SIGTERM)
            _signal_group(child.pid, signal.SIGCONT)  # a paused (SIGSTOPped) child must see it
            try:
                child.popen.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                _signal_group(child.pid, signal.SIGKILL)
                child.popen.wait(timeout=5.0)
        else:
            child.popen.poll()
        # Grandchildren left in the group (e.g. Locust workers) go too.
        _signal_group(child.pid, signal.SIGKILL)
        if child in self._children:
            self._children.remove(child)
        self._write_pid_file()

    def send(self, child: ManagedProcess, sig: signal.Signals) -> None:
        """Signal the child's whole process group (service faults: SIGKILL, SIGSTOP, SIGCONT)."""
        _signal_group(child.pid, sig)

    def stop_all(self, grace_s: float = 5.0) -> None:
        for child in reversed(list(self._children)):
            self.stop(child, grace_s)

    def _write_pid_file(self) -> None:
        records = [{"name": c.name, "pid": c.pid, "argv": list(c.argv)} for c in self._children]
        self._pid_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._pid_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"orchestrator_pid": os.getpid(), "children": records}))
        tmp.replace(self._pid_file)
        entry = self._registry_entry
        if entry is None:
            return
        if records:
            if not entry.exists():
                entry.parent.mkdir(parents=True, exist_ok=True)
                entry.write_text(json.dumps({"pid_file": str(self._pid_file.resolve())}))
        else:
            entry.unlink(missing_ok=True)


def default_registry_dir() -> Path:
    """Where running process groups leave a pointer to their pid file (PEAKDAY_STATE_DIR, read
    now, or ~/.local/state/peakday)."""
    root = os.environ.get("PEAKDAY_STATE_DIR") or str(Path.home() / ".local" / "state" / "peakday")
    return Path(root) / "runs"


def registry_entry_name(pid_file: Path) -> str:
    import hashlib

    return hashlib.sha256(str(pid_file.resolve()).encode()).hexdigest()[:16] + ".json"


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def wait_exit(child: ManagedProcess, timeout_s: float) -> int | None:
    """The exit code if the child exits within `timeout_s`, else None."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = child.popen.poll()
        if code is not None:
            return code
        time.sleep(0.05)
    return child.popen.poll()
