"""Runs the real `peakday` CLI as a subprocess and watches the processes it starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]


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
                    if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                        alive.append(f"pid {pid}")
                except psutil.NoSuchProcess:
                    pass
        marker = str(self.run_dir)
        for proc in psutil.process_iter(["pid", "cmdline"]):
            cmdline = " ".join(proc.info.get("cmdline") or [])
            if marker in cmdline and proc.info["pid"] != os.getpid():
                alive.append(f"pid {proc.info['pid']}: {cmdline}")
        return alive


def start_run(args: Sequence[str], run_dir: Path) -> WatchedRun:
    popen = subprocess.Popen(
        [sys.executable, "-m", "peakday", *args, "--out", str(run_dir)],
        cwd=REPO,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return WatchedRun(popen=popen, run_dir=run_dir)
