"""What `peakday assemble` (the end of every run) costs as runs grow: CPU time and peak memory.

A real run's FOLDER (--source: a demo or smoke run's events.jsonl, metrics.jsonl and
traffic.jsonl) is re-timed to long runs as `bench/long_runs.py` re-times a result.json: the
records before its recovery phase are kept, its recovery seconds are repeated until the load
lasts 0.5, 2 and 8 hours (metrics by `t_s`, generator samples and traffic readings by wall time,
traffic counters carried on so they keep growing), in the order the run wrote them, and each
metrics record is copied under new step names until there are 10 steps. The event log says the
longer duration and ends after it. `peakday assemble RUN` then runs as a child process (reading
the folder, writing result.json and the reports); its CPU time (os.wait4) and its own peak RSS
(VmHWM as it exits) are printed with metrics.jsonl's size.

--against SRC measures another checkout's peakday (its `src`, e.g. `git archive main src`)
side by side on its own copy of each folder, alternating, best CPU of --rounds; "ratio" divides
this tree's CPU seconds by the other's. With both trees, the result.json they wrote are compared
byte for byte ("same result.json").

    PYTHONPATH=src .venv/bin/python bench/assemble_long.py --source results/<a demo run> \
        [--hours 0.5,2,8] [--steps 10] [--against /tmp/main/src --rounds 2]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from peakday.assemble import experiment_of
from peakday.results.eventlog import read_jsonl
from peakday.results.folder import RunFolder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from long_runs import measure as measure_command


def measure(run_dir: Path, src: Path | None) -> tuple[float, float]:
    """CPU seconds (user + system) and own peak RSS (MB) of `peakday assemble -q RUN_DIR`."""
    return measure_command("assemble", run_dir, src, ("-q",))


def _cycles(recovery_start_s: float, period_s: float, end_s: float) -> int:
    return math.ceil((end_s - recovery_start_s) / period_s)


def retimed_metrics(
    records: list[dict[str, Any]],
    t0: float,
    recovery_start_s: int,
    period_s: int,
    end_s: int,
    steps: int,
) -> Iterator[dict[str, Any]]:
    """metrics.jsonl's records, in the order written, the recovery ones repeated to `end_s`."""
    names = sorted({r["step"] for r in records if r.get("kind") == "metrics"})
    copies = [f"{names[i % len(names)]}-copy{i}" for i in range(max(0, steps - len(names)))]
    sources = {copy: names[i % len(names)] for i, copy in enumerate(copies)}

    def when(record: dict[str, Any]) -> float | None:
        if "t_s" in record:
            return float(record["t_s"])
        if record.get("kind") == "generator":
            return float(record["wall"]) - t0
        return None

    def with_copies(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield record
        if record.get("kind") == "metrics":
            for copy, source in sources.items():
                if record["step"] == source:
                    yield {**record, "step": copy}

    def shifted(record: dict[str, Any], shift: int) -> dict[str, Any]:
        if "t_s" in record:
            return {**record, "t_s": record["t_s"] + shift}
        return {**record, "wall": record["wall"] + shift}

    recovery = []
    for record in records:
        if record.get("kind") == "load_stopped":
            continue
        at = when(record)
        if at is None or at < recovery_start_s:
            yield from with_copies(record)
        else:
            recovery.append(record)
    for cycle in range(_cycles(recovery_start_s, period_s, end_s)):
        for record in recovery:
            at = when(record)
            if at is not None and at + cycle * period_s < end_s:
                yield from with_copies(shifted(record, cycle * period_s))
    yield {"kind": "load_stopped", "wall": t0 + end_s + 0.2}


def retimed_traffic(
    records: list[dict[str, Any]], t0: float, recovery_start_s: int, period_s: int, end_s: int
) -> Iterator[dict[str, Any]]:
    """traffic.jsonl's readings, the recovery ones repeated; counters keep growing."""
    kept = [r for r in records if r["wall"] - t0 < recovery_start_s]
    recovery = [r for r in records if r["wall"] - t0 >= recovery_start_s]
    yield from kept
    if not recovery:
        return
    first = recovery[0].get("proxies") or {}
    last = recovery[-1].get("proxies") or {}
    for cycle in range(_cycles(recovery_start_s, period_s, end_s)):
        for record in recovery:
            wall = record["wall"] + cycle * period_s
            if wall - t0 >= end_s:
                continue
            proxies = record.get("proxies")
            if isinstance(proxies, dict):
                proxies = {
                    name: {
                        key: value
                        + cycle
                        * ((last.get(name) or {}).get(key, 0) - (first.get(name) or {}).get(key, 0))
                        if key != "connections" and isinstance(value, int | float)
                        else value
                        for key, value in counters.items()
                    }
                    for name, counters in proxies.items()
                }
            yield {**record, "wall": wall, "proxies": proxies}


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def long_folder(source: RunFolder, into: Path, hours: float, steps: int) -> None:
    """`source`'s run re-timed to `hours` hours of load with `steps` steps, written to `into`."""
    experiment, _ = experiment_of(source)
    events = list(read_jsonl(source.events))
    metrics = list(read_jsonl(source.metrics))
    t0 = next(float(r["wall"]) for r in metrics if r.get("kind") == "load_started")
    load_end_s = int(experiment.load.duration)
    last_fault_s = max((f.end for f in experiment.faults), default=experiment.load.warmup)
    recovery_start_s = math.ceil(last_fault_s) + 5  # the fault's own stragglers stay in place
    period_s = load_end_s - recovery_start_s
    end_s = round(hours * 3600)
    later = end_s - load_end_s  # events after the load move by as much
    into.mkdir(parents=True, exist_ok=True)
    folder = RunFolder(into)
    moved = []
    for event in events:
        event = dict(event)
        if event["kind"] == "run_started":
            event["experiment"] = json.loads(json.dumps(event["experiment"]))
            event["experiment"]["load"]["duration"] = float(end_s)
        elif event["wall"] - t0 >= load_end_s - 1:
            event["wall"] += later
        moved.append(event)
    write_jsonl(folder.events, moved)
    write_jsonl(
        folder.metrics, retimed_metrics(metrics, t0, recovery_start_s, period_s, end_s, steps)
    )
    traffic = list(read_jsonl(source.traffic))
    write_jsonl(folder.traffic, retimed_traffic(traffic, t0, recovery_start_s, period_s, end_s))
    if source.server_series.exists():
        shutil.copy(source.server_series, folder.server_series)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="a real run's folder")
    parser.add_argument("--hours", default="0.5,2,8")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="write the long runs here (not a temp dir)")
    parser.add_argument("--against", type=Path, help="another checkout's src/, measured too")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each tree (best CPU)")
    args = parser.parse_args()
    source = RunFolder.of(args.source)
    trees: dict[str, Path | None] = {"this": None}
    if args.against:
        trees = {"against": args.against, "this": None}
        print(f"against: {args.against.resolve()}; this: {Path.cwd()}; best of {args.rounds}")
    print(f"source: {source.path}, {args.steps} steps")
    print(f"{'hours':>5} {'tree':>7} {'metrics MB':>10} {'cpu s':>7} {'peak MB':>8}")
    with tempfile.TemporaryDirectory(prefix="peakday-assemble-") as temporary:
        work = args.keep or Path(temporary)
        for hour in [float(h) for h in args.hours.split(",")]:
            base = work / f"{hour}h"
            long_folder(source, base, hour, args.steps)
            size_mb = RunFolder(base).metrics.stat().st_size / 1e6
            copies = {}
            for tree in trees:
                copies[tree] = base.with_name(f"{base.name}-{tree}")
                shutil.copytree(base, copies[tree], dirs_exist_ok=True)
            taken: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
            for _ in range(args.rounds):
                for tree, src in trees.items():
                    taken[tree].append(measure(copies[tree], src))
            best = {
                tree: (min(c for c, _ in runs), max(m for _, m in runs))
                for tree, runs in taken.items()
            }
            for tree, (cpu_s, peak_mb) in best.items():
                print(f"{hour:>5g} {tree:>7} {size_mb:>10.1f} {cpu_s:>7.1f} {peak_mb:>8.0f}")
            if args.against:
                same = all(
                    RunFolder(copies[tree]).result.read_bytes()
                    == RunFolder(copies["this"]).result.read_bytes()
                    for tree in trees
                )
                ratio = best["this"][0] / best["against"][0]
                print(f"{hour:>5g} {'ratio':>7} {'':>10} {ratio:>6.2f}x  same result.json: {same}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
