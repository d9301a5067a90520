"""Runs the real `peakday` CLI as a subprocess and watches the processes it starts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from peakday.results.model import Result

REPO = Path(__file__).resolve().parents[2]


def load_result(run_dir: Path) -> Result:
    return Result.model_validate_json((run_dir / "result.json").read_text())


def events(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def run_id_of(run_dir: Path) -> str:
    """The run's id, from the first line of its event log."""
    return str(events(run_dir)[0]["run_id"])


def wait_for_load(popen: subprocess.Popen[Any], run_dir: Path, timeout_s: float) -> None:
    """Until the run's event log says its load started; the run is killed and the test fails
    when the run ends first or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while not (
        (run_dir / "events.jsonl").exists()
        and any(e["kind"] == "load_started" for e in events(run_dir))
    ):
        if popen.poll() is not None or time.monotonic() >= deadline:
            popen.kill()
            raise AssertionError(f"the run did not start its load within {timeout_s:.0f} s")
        time.sleep(0.2)


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    tools = REPO / ".tools" / "bin"
    env["PATH"] = f"{tools}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.setdefault("PEAKDAY_TOOLS_DIR", str(tools))
    return env


@dataclass
class WatchedRun:
    popen: subprocess.Popen[str]
    run_dir: Path
    seen_pids: set[int] = field(default_factory=set)

    def poll_children(self) -> None:
        """Remember every child pid the run has recorded so far."""
        try:
            data = json.loads((self.run_dir / "pids.json").read_text())
        except (OSError, ValueError):
            return
        self.seen_pids.update(int(c["pid"]) for c in data.get("children", []))

    def wait(self, timeout_s: float) -> tuple[int, str, str]:
        deadline = time.monotonic() + timeout_s
        while self.popen.poll() is None and time.monotonic() < deadline:
            self.poll_children()
            time.sleep(0.1)
        if self.popen.poll() is None:
            self.popen.kill()
        out, err = self.popen.communicate(timeout=30)
        return self.popen.returncode, out, err

    def survivors(self) -> list[str]:
        """Processes of this run still alive: recorded children, or anything naming the run dir."""
        alive = []
        for pid in self.seen_pids:
            if psutil.pid_exists(pid):
                try:
                    process = psutil.Process(pid)
                    status = process.status()
                    if status != psutil.STATUS_ZOMBIE:
                        alive.append(f"pid {pid} ({status}): {' '.join(process.cmdline())[:160]}")
                except psutil.NoSuchProcess:
                    pass
        marker = str(self.run_dir)
        for proc in psutil.process_iter(["pid", "cmdline"]):
            cmdline = " ".join(proc.info.get("cmdline") or [])
            if marker in cmdline and proc.info["pid"] != os.getpid():
                alive.append(f"pid {proc.info['pid']}: {cmdline}")
        return alive


def peakday_clean(env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`peakday clean` as a user runs it; `env`'s PEAKDAY_STATE_DIR says where it looks."""
    return subprocess.run(
        [sys.executable, "-m", "peakday", "clean"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _ctrl_c_as_at_a_terminal() -> None:
    """In the child: SIGINT's default action. A test suite started as a background job (`cmd &`
    in a script, no job control) inherits SIGINT ignored, exec keeps it ignored and so does
    Python, so the tests that press Ctrl-C would see a run that never noticed it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_run(args: Sequence[str], run_dir: Path) -> WatchedRun:
    popen = subprocess.Popen(
        [sys.executable, "-m", "peakday", *args, "--out", str(run_dir)],
        cwd=REPO,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_as_at_a_terminal,
    )
    return WatchedRun(popen=popen, run_dir=run_dir)
