"""A real accelerated soak: does any process's memory grow with run length?

Runs `peakday run` on the local platform for --minutes with many users (no fault schedule beyond
one early fault, a baseline SLO and a stop condition, so the live guard works all run long), and
samples the resident memory (VmRSS) of the orchestrator and of every process below it each
--every seconds. Prints, per process, RSS at start and end and the growth per hour: the slope of
a least-squares line through the samples from --settle seconds (allocations of the start are
not growth) to the end of the load (scoring the run afterwards reads all of it, by design).
Target: under 20 MB/h for the orchestrator and each Locust process.

    .venv/bin/python bench/soak.py [--minutes 20] [--users 60] [--every 10]
    (toxiproxy-server from .tools/bin, or the folder PEAKDAY_TOOLS_DIR names)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MB_PER_H = 20.0

EXPERIMENT = """name: soak-bench
platform: local
load:
  users: {users}
  spawn_rate: {users}
  duration: {seconds}s
  warmup: 10s
  connections: keep-alive
  journeys: {{shopper: 6, merchant: 2, pos: 2}}
faults:
  - {{name: login-slow, at: 30s, duration: 20s, proxy: auth_login, toxic: latency,
     attributes: {{latency: 200}}}}
slos:
  - {{name: login-baseline, request: login, metric: p95, objective: "< 2s", phase: baseline}}
  - {{name: checkout-holds, request: checkout, metric: success_rate, objective: ">= 50%",
     phase: all}}
stop_conditions:
  - {{name: checkout-collapse, request: checkout, metric: success_rate, when: "< 1%",
     sustained: 30s}}
"""


@dataclass
class Series:
    label: str
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)

    def growth_mb_per_h(self, settle_s: float, until_s: float) -> float | None:
        points = [(t, mb) for t, mb in self.samples if settle_s <= t <= until_s]
        if len(points) < 3:
            return None
        mean_t = sum(t for t, _ in points) / len(points)
        mean_mb = sum(mb for _, mb in points) / len(points)
        spread = sum((t - mean_t) ** 2 for t, _ in points)
        slope = sum((t - mean_t) * (mb - mean_mb) for t, mb in points) / spread
        return slope * 3600.0


def children_of(root: int) -> dict[int, str]:
    """Every process below `root` (any depth) and what it is, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found[child] = label_of(child)
                frontier.append(child)
    return found


def label_of(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    text = " ".join(a.decode(errors="replace") for a in argv)
    if "locust" in text:
        return "locust" + (" worker" if "--worker" in text else "")
    if "toxiproxy" in text:
        return "toxiproxy-server"
    if "peakday.storefront" in text:  # python -m peakday.storefront SERVICE --host ...
        names = [a.decode(errors="replace") for a in argv]
        after = names.index("peakday.storefront") + 1 if "peakday.storefront" in names else 0
        return f"storefront {names[after]}" if 0 < after < len(names) else "storefront"
    return Path(argv[0].decode(errors="replace")).name


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--settle", type=float, default=60.0, help="seconds before growth counts")
    args = parser.parse_args()
    seconds = round(args.minutes * 60)
    work = Path(tempfile.mkdtemp(prefix="peakday-soak-"))
    spec = work / "soak.yaml"
    spec.write_text(EXPERIMENT.format(users=args.users, seconds=seconds))
    run_dir = work / "run"
    tools = os.environ.get("PEAKDAY_TOOLS_DIR", str(REPO / ".tools" / "bin"))
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    command = [sys.executable, "-m", "peakday", "run", str(spec), "--out", str(run_dir), "-q"]
    print(f"soak: {args.minutes:g} min, {args.users} users, sampling every {args.every:g} s")
    print(f"run folder: {run_dir}", flush=True)
    orchestrator = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    series: dict[int, Series] = {orchestrator.pid: Series("orchestrator (peakday run)")}
    started = time.monotonic()
    while orchestrator.poll() is None:
        now = time.monotonic() - started
        for pid, label in children_of(orchestrator.pid).items():
            series.setdefault(pid, Series(label))
        for pid, one in series.items():
            mb = rss_mb(pid)
            if mb is not None:
                one.samples.append((now, mb))
        time.sleep(args.every)
    print(f"peakday run exited {orchestrator.returncode} after {time.monotonic() - started:.0f} s")
    samples = work / "rss.csv"
    with samples.open("w", encoding="utf-8") as handle:
        handle.write("process,pid,seconds,rss_mb\n")
        for pid, one in series.items():
            handle.writelines(f"{one.label},{pid},{t:.1f},{mb:.1f}\n" for t, mb in one.samples)
    print(f"samples: {samples}")
    print(f"{'process':<28} {'pid':>7} {'first MB':>9} {'last MB':>8} {'max MB':>7} {'MB/h':>7}")
    for pid, one in sorted(series.items(), key=lambda item: item[1].label):
        if not one.samples:
            continue
        # Until the load ends: afterwards the orchestrator reads the whole run to score it.
        growth = one.growth_mb_per_h(args.settle, seconds)
        mbs = [mb for _, mb in one.samples]
        judged = one.label.startswith(("orchestrator", "locust"))
        verdict = ""
        if judged and growth is not None:
            verdict = "ok" if growth < TARGET_MB_PER_H else f"over {TARGET_MB_PER_H:g} MB/h"
        shown = f"{growth:7.1f}" if growth is not None else f"{'-':>7}"
        print(
            f"{one.label:<28} {pid:>7} {mbs[0]:>9.1f} {mbs[-1]:>8.1f} {max(mbs):>7.1f} "
            f"{shown} {verdict}"
        )


if __name__ == "__main__":
    main()
