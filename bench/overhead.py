"""Overhead of peakday over plain Locust: requests/s of the same locustfile against the storefront.

Side by side in one run, alternating (plain, peakday, plain, peakday, ...) so drift on a noisy
machine hits both. Each plain run gets its own fresh storefront started by the same local platform
code peakday uses, so both see identical services. Prints the ratio; target >= 0.97.

    .venv/bin/python bench/overhead.py [--rounds 2] [--seconds 30] [--users 60]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from peakday.platforms.local import LocalPlatform
from peakday.processes.children import ProcessGroup
from peakday.results.store import load_result
from peakday.topology import storefront_topology

REPO = Path(__file__).resolve().parent.parent
TOOLS = (REPO / ".tools" / "bin",)


def experiment_yaml(seconds: int, users: int) -> str:
    return f"""\
name: overhead-bench
platform: local
load:
  users: {users}
  spawn_rate: {users}
  duration: {seconds}s
  # plain Locust runs the locustfile's own default; peakday's default is per-journey, and a
  # new TCP connection per journey costs throughput that is not peakday's overhead.
  connections: keep-alive
"""


def plain_locust_rps(work: Path, seconds: int, users: int) -> float:
    processes = ProcessGroup(work / "pids.json")
    platform = LocalPlatform(storefront_topology(), work, TOOLS, processes)
    try:
        endpoints = platform.start()
        env = {**os.environ, **endpoints.locust_env()}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(REPO / "locustfiles" / "storefront.py"),
                "--headless",
                "-u",
                str(users),
                "-r",
                str(users),
                "-t",
                f"{seconds}s",
                "--stop-timeout",
                "11",
                "--only-summary",
                "--csv",
                str(work / "plain"),
                "--exit-code-on-error",
                "0",
                "--loglevel",
                "WARNING",
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=seconds + 60,
        )
    finally:
        platform.stop()
    with open(work / "plain_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                return int(row["Request Count"]) / seconds
    raise RuntimeError("Locust wrote no Aggregated row")


def peakday_rps(work: Path, seconds: int, users: int) -> float:
    work.mkdir(parents=True, exist_ok=True)
    spec = work / "overhead.yaml"
    spec.write_text(experiment_yaml(seconds, users))
    env = {**os.environ, "PEAKDAY_TOOLS_DIR": str(TOOLS[0])}
    subprocess.run(
        [sys.executable, "-m", "peakday", "run", str(spec), "--out", str(work / "run"), "-q"],
        cwd=REPO,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        timeout=seconds + 90,
    )
    result = load_result(work / "run")
    return sum(row.requests for row in result.timeline) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--users", type=int, default=60)
    args = parser.parse_args()
    plain, ours = [], []
    with tempfile.TemporaryDirectory(prefix="peakday-overhead-") as tmp:
        for round_index in range(args.rounds):
            base = Path(tmp) / f"round{round_index}"
            plain.append(plain_locust_rps(base / "plain", args.seconds, args.users))
            ours.append(peakday_rps(base / "peakday", args.seconds, args.users))
            print(
                f"round {round_index + 1}: plain locust {plain[-1]:.1f} req/s, "
                f"peakday run {ours[-1]:.1f} req/s"
            )
    ratio = statistics.mean(ours) / statistics.mean(plain)
    verdict = "meets" if ratio >= 0.97 else "misses"
    print(f"requests/s ratio peakday/plain = {ratio:.3f} ({verdict} the >= 0.97 target)")


if __name__ == "__main__":
    main()
