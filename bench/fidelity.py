"""Measurement fidelity against the real storefront and Toxiproxy: four figures.

    .venv/bin/python bench/fidelity.py [latency] [stall] [onset] [workers]   (default: all)

latency  A fixed 200 ms latency toxic on auth_introspect (every checkout asks auth through it):
         checkout p50/p99 under the toxic against 200 ms plus the no-fault baseline (target 2%).
stall    A 3 s stall (timeout toxic, then removed) under a fixed arrival rate (50/s) with a
         pool of 10 users: corrected vs uncorrected p99 (peakday), and Locust's own p99 from
         the same run (Locust's report is uncorrected and rounded).
onset    A latency toxic applied on schedule, again and again, while a client sends a request
         every 5 ms on a kept-alive connection: time from the scheduled start to the first slowed
         request (target: median <= 100 ms).
workers  The same closed-model load with one Locust process and with a master and 2 workers:
         requests/s as a ratio.

Traffic goes only to loopback; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from peakday.experiment.models import Fault
from peakday.faults.injector import FaultInjector
from peakday.load.histograms import merge_histograms, percentile_ms
from peakday.platforms.local import LocalPlatform
from peakday.processes.children import ProcessGroup
from peakday.results.model import Result, TimelineRow
from peakday.topology import storefront_topology

REPO = Path(__file__).resolve().parent.parent
TOOLS = (REPO / ".tools" / "bin",)


def run_peakday(work: Path, name: str, yaml_text: str) -> tuple[Result, Path]:
    spec = work / f"{name}.yaml"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(yaml_text)
    run_dir = work / name
    env = {**os.environ, "PEAKDAY_TOOLS_DIR": str(TOOLS[0])}
    subprocess.run(
        [sys.executable, "-m", "peakday", "run", str(spec), "--out", str(run_dir), "-q"],
        cwd=REPO,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=300,
    )
    return Result.model_validate_json((run_dir / "result.json").read_text()), run_dir


def window_ms(
    rows: list[TimelineRow], start_s: float, end_s: float, percentile: float, corrected: bool = True
) -> float:
    """A percentile over requests started in [start_s, end_s), from merged histograms."""
    chosen = [row for row in rows if start_s <= row.t_s and row.t_s + 1 <= end_s]
    merged = merge_histograms(
        row.histogram if corrected else (row.uncorrected_histogram or row.histogram)
        for row in chosen
    )
    value = percentile_ms(merged, percentile)
    if value is None:
        raise RuntimeError(f"no requests between {start_s} s and {end_s} s")
    return value


def locust_p99_ms(run_dir: Path, name: str) -> float:
    with (run_dir / "locust_stats.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == name:
                return float(row["99%"])
    raise RuntimeError(f"Locust's report has no row {name!r}")


def bench_latency(work: Path) -> None:
    latency_ms = 200.0
    result, _ = run_peakday(
        work,
        "latency",
        """\
name: fidelity-latency
load:
  arrival_rate: 20
  max_concurrency: 40
  duration: 50s
  warmup: 5s
  journeys: {shopper: 1}
faults:
  - {name: fixed-200ms, at: 26s, duration: 23s, proxy: auth_introspect, toxic: latency,
     attributes: {latency: 200, jitter: 0}}
""",
    )
    rows = [row for row in result.timeline if row.name == "checkout"]
    # Whole seconds only, one second clear of each change.
    base50, base99 = (window_ms(rows, 6, 25, p) for p in (50.0, 99.0))
    fault50, fault99 = (window_ms(rows, 27, 48, p) for p in (50.0, 99.0))
    for label, base, fault in (("p50", base50, fault50), ("p99", base99, fault99)):
        expected = latency_ms + base
        error_pct = 100.0 * (fault - expected) / expected
        print(
            f"latency {label}: baseline {base:.2f} ms, under 200 ms toxic {fault:.2f} ms, "
            f"expected {expected:.2f} ms, error {error_pct:+.2f}% "
            f"({'within' if abs(error_pct) <= 2 else 'outside'} 2%)"
        )


def bench_stall(work: Path) -> None:
    result, run_dir = run_peakday(
        work,
        "stall",
        """\
name: fidelity-stall
load:
  arrival_rate: 50
  max_concurrency: 10
  duration: 40s
  warmup: 3s
  journeys: {shopper: 1}
faults:
  - {name: stall-3s, at: 20s, duration: 3s, proxy: auth_introspect, toxic: timeout,
     attributes: {timeout: 0}}
""",
    )
    rows = [row for row in result.timeline if row.name == "checkout"]
    corrected, uncorrected = (window_ms(rows, 0, 40, 99.0, c) for c in (True, False))
    stall_c, stall_u = (window_ms(rows, 20, 25, 99.0, c) for c in (True, False))
    locust = locust_p99_ms(run_dir, "checkout")
    health = result.load_health
    late = health.late_starts if health else 0
    print(
        f"stall whole run: corrected p99 {corrected:.1f} ms, uncorrected p99 {uncorrected:.1f} ms, "
        f"ratio {corrected / uncorrected:.2f}; Locust's own report p99 {locust:.0f} ms, "
        f"corrected/Locust ratio {corrected / locust:.2f}"
    )
    print(
        f"stall seconds 20-25: corrected p99 {stall_c:.1f} ms, uncorrected {stall_u:.1f} ms, "
        f"ratio {stall_c / stall_u:.2f}; late starts {late}"
    )


def bench_onset(work: Path, trials: int = 15) -> None:
    processes = ProcessGroup(work / "onset" / "pids.json")
    platform = LocalPlatform(storefront_topology(), work / "onset", TOOLS, processes)
    toxic_ms = 300.0
    fault = Fault.model_validate(
        {
            "at": 0,
            "duration": 1,
            "proxy": "auth_login",
            "toxic": "latency",
            "attributes": {"latency": toxic_ms},
        }
    )
    samples: list[tuple[float, float]] = []  # (start wall, latency s)
    stop = threading.Event()
    try:
        endpoints = platform.start()
        url = f"http://{endpoints.proxies['auth_login']}/health"
        injector = FaultInjector(platform.toxiproxy(), (fault,), lambda event: None)

        def client() -> None:
            session = requests.Session()  # one kept-alive connection: the hardest case
            deadline = time.monotonic() + trials * 3.0 + 10.0
            while not stop.is_set() and time.monotonic() < deadline:
                started = time.time()
                session.get(url, timeout=5)
                samples.append((started, time.time() - started))
                time.sleep(0.005)

        thread = threading.Thread(target=client, daemon=True)
        thread.start()
        time.sleep(1.0)
        onsets_ms = []
        for _ in range(trials):
            scheduled = time.time() + 0.5
            time.sleep(max(0.0, scheduled - time.time()))
            injector.apply(0)
            time.sleep(1.2)
            injector.remove(0)
            time.sleep(0.8)
            slowed = [
                start
                for start, took in samples
                if start >= scheduled - 1.0 and took * 1000 >= 0.9 * toxic_ms
            ]
            if slowed:
                onsets_ms.append((min(slowed) - scheduled) * 1000.0)
        stop.set()
        thread.join(timeout=10)
    finally:
        stop.set()
        platform.stop()
    if not onsets_ms:
        raise RuntimeError("no request was slowed by the toxic")
    print(
        f"onset over {len(onsets_ms)} trials: median {statistics.median(onsets_ms):.1f} ms, "
        f"min {min(onsets_ms):.1f} ms, max {max(onsets_ms):.1f} ms "
        f"({'meets' if statistics.median(onsets_ms) <= 100 else 'misses'} the <= 100 ms target); "
        "negative: a request already in flight was slowed"
    )


def bench_workers(work: Path) -> None:
    rates = {}
    for workers in (0, 2):
        result, _ = run_peakday(
            work,
            f"workers{workers}",
            f"""\
name: fidelity-workers-{workers}
load:
  users: 120
  spawn_rate: 120
  duration: 25s
  warmup: 5s
  workers: {workers}
  journeys: {{shopper: 1}}
""",
        )
        requests_after_warmup = sum(row.requests for row in result.timeline if 5 <= row.t_s < 25)
        rates[workers] = requests_after_warmup / 20.0
        health = result.load_health
        cpu = max((g.cpu_percent for g in health.generator), default=0.0) if health else 0.0
        print(f"workers {workers}: {rates[workers]:.1f} req/s, generator peak CPU {cpu:.0f}%")
    print(f"throughput ratio 2 workers / 1 process = {rates[2] / rates[0]:.2f}")


BENCHES = {
    "latency": bench_latency,
    "stall": bench_stall,
    "onset": bench_onset,
    "workers": bench_workers,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benches", nargs="*", help=f"some of {', '.join(BENCHES)}")
    parser.add_argument("--keep", type=Path, help="keep the runs in this folder")
    args = parser.parse_args()
    chosen = args.benches or list(BENCHES)
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        parser.error(f"unknown benches {unknown!r}; choose from {list(BENCHES)!r}")
    with tempfile.TemporaryDirectory(prefix="peakday-fidelity-") as tmp:
        for name in chosen:
            BENCHES[name](args.keep or Path(tmp))


if __name__ == "__main__":
    main()
