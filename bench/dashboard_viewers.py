"""Does watching slow the run? Fault onset and requests/s of a smoke run with 0 and 20 dashboards.

Runs `peakday run experiments/smoke.yaml --dashboard` alternately with no viewer and with N
viewers (each a real server-sent-events connection to the run's dashboard, reading every
snapshot), and prints, side by side, per round and as medians:
  - fault onset lateness: when the fault was applied minus when it was planned (events.jsonl;
    the first apply waits for the steady-state check), and the same for its removal;
  - requests/s over the whole load (result.json);
  - snapshots each viewer received per second (the page must update at least once a second).
The ratios printed are (with viewers) / (without); the target is onset within noise (a few ms)
and rps ratio >= 0.97.

    .venv/bin/python bench/dashboard_viewers.py [--rounds 1] [--viewers 20] [--reference]

(--reference also runs without --dashboard, to show what the fault onset is without any page.)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
URL = re.compile(r"dashboard: http://([^/\s]+)/\?token=(\S+)")


@dataclass(frozen=True)
class Round:
    viewers: int  # -1: run without --dashboard
    onset_ms: float
    removal_ms: float  # the fault's removal, minus when it was planned
    rps: float
    snapshots_per_s: float  # per viewer, over the run (0 without viewers)


def _viewer(address: str, token: str, stop: threading.Event, counts: list[int], i: int) -> None:
    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", f"/events?token={token}")
    response = connection.getresponse()
    while not stop.is_set():
        line = response.fp.readline() if response.fp is not None else b""
        if not line:
            return
        if line.startswith(b"data: "):
            counts[i] += 1


def bench_experiment(folder: Path) -> Path:
    """experiments/smoke.yaml, its fault injected even when a busy machine misses the baseline
    SLO (the bench measures when the fault starts, not whether the storefront is fast)."""
    spec = yaml.safe_load((REPO / "experiments" / "smoke.yaml").read_text())
    spec.setdefault("scoring", {})["continue_if_baseline_not_met"] = True
    path = folder / "smoke-bench.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def one_run(viewers: int, out: Path, experiment: Path) -> Round | None:
    """One run's figures; None (and why, printed) when the run did not get to its fault."""
    env = dict(os.environ)
    env.setdefault("PEAKDAY_TOOLS_DIR", str(REPO / ".tools" / "bin"))
    command = [sys.executable, "-m", "peakday", "run", str(experiment), "--no-color",
               "-q", "--out", str(out)]  # fmt: skip
    if viewers >= 0:  # -1: no dashboard at all (the reference)
        command.append("--dashboard")
    popen = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True,
                             stdout=subprocess.DEVNULL)  # fmt: skip
    assert popen.stderr is not None
    found: queue.Queue[tuple[str, str]] = queue.Queue()

    lines: list[str] = []

    def pump() -> None:
        assert popen.stderr is not None
        for line in popen.stderr:
            lines.append(line)
            match = URL.search(line)
            if match:
                found.put((match.group(1), match.group(2)))

    threading.Thread(target=pump, daemon=True).start()
    address, token = found.get(timeout=60) if viewers >= 0 else ("", "")
    stop = threading.Event()
    counts = [0] * max(viewers, 0)
    threads = [
        threading.Thread(target=_viewer, args=(address, token, stop, counts, i), daemon=True)
        for i in range(max(viewers, 0))
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    code = popen.wait(timeout=180)
    watched_s = time.monotonic() - started
    stop.set()
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    kinds = {e["kind"] for e in events}
    if not {"load_started", "fault_applied", "fault_removed"} <= kinds:
        print(f"  viewers={viewers}: run exited {code} before its fault; skipped: "
              f"{''.join(lines[-3:]).strip()}", flush=True)  # fmt: skip
        return None
    t0 = next(e["wall"] for e in events if e["kind"] == "load_started")
    applied = next(e for e in events if e["kind"] == "fault_applied")
    experiment = next(e for e in events if e["kind"] == "run_started")["experiment"]
    fault = experiment["faults"][applied["fault_index"]]
    planned_s = float(fault["at"])
    removed = next(e for e in events if e["kind"] == "fault_removed")
    result = json.loads((out / "result.json").read_text())
    requests = sum(row["requests"] for row in result["timeline"])
    load_s = float(result["run"]["load_ended_s"])
    return Round(
        viewers=viewers,
        onset_ms=(applied["wall"] - t0 - planned_s) * 1000,
        removal_ms=(removed["wall"] - t0 - planned_s - float(fault["duration"])) * 1000,
        rps=requests / load_s,
        snapshots_per_s=statistics.mean(counts) / watched_s if viewers > 0 else 0.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument(
        "--reference", action="store_true", help="also run without --dashboard at all"
    )
    args = parser.parse_args()
    modes = ([-1] if args.reference else []) + [0, args.viewers]
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="peakday-dashboard-bench-") as tmp:
        experiment = bench_experiment(Path(tmp))
        for i in range(args.rounds):
            for viewers in modes:
                done = one_run(viewers, Path(tmp) / f"run-{i}-{viewers}", experiment)
                if done is None:
                    continue
                rounds.append(done)
                print(
                    f"round {i + 1} viewers={viewers:>2}: fault onset {done.onset_ms:6.1f} ms "
                    f"late, removal {done.removal_ms:6.1f} ms late, {done.rps:6.1f} req/s, "
                    f"{done.snapshots_per_s:.2f} snapshots/s per viewer",
                    flush=True,
                )
    reference = [r for r in rounds if r.viewers < 0]
    if reference:
        print(
            f"no dashboard: fault onset {statistics.median(r.onset_ms for r in reference):.1f} "
            f"ms late, removal {statistics.median(r.removal_ms for r in reference):.1f} ms late, "
            f"{statistics.median(r.rps for r in reference):.1f} req/s"
        )
    without = [r for r in rounds if r.viewers == 0]
    with_viewers = [r for r in rounds if r.viewers > 0]
    onset_0 = statistics.median(r.onset_ms for r in without)
    onset_n = statistics.median(r.onset_ms for r in with_viewers)
    removal_0 = statistics.median(r.removal_ms for r in without)
    removal_n = statistics.median(r.removal_ms for r in with_viewers)
    rps_0 = statistics.median(r.rps for r in without)
    rps_n = statistics.median(r.rps for r in with_viewers)
    print(f"fault onset: {onset_0:.1f} ms (0 viewers) vs {onset_n:.1f} ms ({args.viewers} "
          f"viewers), difference {onset_n - onset_0:+.1f} ms")  # fmt: skip
    print(f"fault removal: {removal_0:.1f} ms vs {removal_n:.1f} ms, difference "
          f"{removal_n - removal_0:+.1f} ms")  # fmt: skip
    print(f"requests/s: {rps_0:.1f} vs {rps_n:.1f}, ratio {rps_n / rps_0:.3f} (target >= 0.97)")
    updates = statistics.median(r.snapshots_per_s for r in with_viewers)
    print(f"snapshots per viewer per second: {updates:.2f} (target >= 1)")


if __name__ == "__main__":
    main()
