"""What `peakday score` and `peakday report` cost as runs grow: wall time and peak memory.

A real run's result.json (a demo or smoke run; --source) is re-timed to long runs: the seconds
before its recovery phase are kept, its recovery seconds are repeated until the run lasts 0.5, 2
and 8 hours, and its steps are copied under new names until there are 10 of them. Each command
runs as a child process (`python -m peakday score|report DIR`); its CPU time (os.wait4) and its
own peak RSS (VmHWM as it exits) are printed side by side with result.json's size. `score`
runs twice: first on the file as re-timed here (one JSON line, as any older result), which it
rewrites in the current layout; then on that, as every later score and report reads it.
Target: under 300 MB for the 8 h run, and a cost that does not grow with run length.

--against SRC measures another checkout's peakday (its `src` directory, e.g. a `git worktree`
of main) side by side on the same files: each command runs for both, alternating, each tree on
its own copy of the run (score rewrites it), best CPU of --rounds; the lines "ratio" divide
this tree's CPU seconds by the other's.

    PYTHONPATH=src .venv/bin/python bench/long_runs.py --source results/<a demo run>/result.json \
        [--hours 0.5,2,8] [--steps 10] [--against ../main/src --rounds 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from peakday.results.folder import RunFolder
from peakday.results.model import Result

REPO = Path(__file__).resolve().parent.parent


def repeat_seconds(
    items: list[dict[str, Any]], recovery_start_s: int, period_s: int, end_s: int
) -> list[dict[str, Any]]:
    """Items keyed by `t_s` (whole or fractional seconds) with the recovery ones repeated."""
    kept = [item for item in items if item["t_s"] < recovery_start_s]
    recovery = [item for item in items if item["t_s"] >= recovery_start_s]
    for cycle in range(math.ceil((end_s - recovery_start_s) / period_s)):
        shift = cycle * period_s
        for item in recovery:
            t_s = item["t_s"] + shift
            if t_s < end_s:
                kept.append({**item, "t_s": t_s})
    return kept


def more_steps(rows: list[dict[str, Any]], steps: int) -> list[dict[str, Any]]:
    """Rows of the run's steps copied under new names until there are `steps` steps."""
    names = sorted({row["name"] for row in rows})
    copies = {
        f"{names[i % len(names)]}-copy{i}": names[i % len(names)] for i in range(steps - len(names))
    }
    extra = [
        {**row, "name": copy}
        for copy, source in copies.items()
        for row in rows
        if row["name"] == source
    ]
    return sorted(rows + extra, key=lambda row: (row["t_s"], row["name"]))


def retimed(source: dict[str, Any], hours: float, steps: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(source))
    if data.get("schema_version", 0) >= 4:
        raise SystemExit("--source must be a result of schema <= 3 (rows as objects)")
    end_s = round(hours * 3600)
    recovery = next(p for p in data["phases"] if p["kind"] == "recovery")
    recovery_start_s = math.ceil(recovery["start_s"])
    load_end_s = int(data["run"]["load_ended_s"] or data["experiment"]["load"]["duration"])
    period_s = load_end_s - recovery_start_s
    data["timeline"] = more_steps(
        repeat_seconds(data["timeline"], recovery_start_s, period_s, end_s), steps
    )
    for phase in data["phases"]:
        if phase["kind"] in ("recovery", "all"):
            phase["end_s"] = float(end_s)
    data["experiment"]["load"]["duration"] = float(end_s)
    data["run"]["load_ended_s"] = float(end_s)
    if data.get("traffic"):
        for proxy in data["traffic"]["proxies"]:
            proxy["seconds"] = repeat_seconds(proxy["seconds"], recovery_start_s, period_s, end_s)
    health = data.get("load_health")
    if health:
        for key in ("generator", "arrivals"):
            health[key] = repeat_seconds(health.get(key, []), recovery_start_s, period_s, end_s)
    return data


# The child's own peak RSS (VmHWM: reset at exec), written when it exits. Not wait4's ru_maxrss:
# on Linux that keeps the RSS the child had as a fork of this bench before exec, so it read
# this process's peak (the re-timed JSON it builds) whenever that was the larger.
_PEAK_AT_EXIT = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(out, "w").write(line.split()[1])
atexit.register(peak)
runpy.run_module("peakday", run_name="__main__", alter_sys=True)
"""


def measure(
    command: str, run_dir: Path, src: Path | None = None, options: tuple[str, ...] = ()
) -> tuple[float, float]:
    """CPU seconds (user + system) and peak RSS (MB) of `peakday COMMAND [OPTIONS] RUN_DIR`, in
    its own process (peakday imported from `src` when given). CPU, not wall time: on a shared
    machine wall time is mostly other people's load. Exit codes 0, 1, 4 and 130 are the run's
    own verdict (130: an interrupted run); any other is a crash."""
    peak_file = run_dir / f".peak-{command}"
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src.resolve())
    child = subprocess.Popen(
        [sys.executable, "-c", _PEAK_AT_EXIT, str(peak_file), command, *options, str(run_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    _, status, usage = os.wait4(child.pid, 0)
    cpu_s = usage.ru_utime + usage.ru_stime
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 4, 130):  # the run's own verdict is fine; a crash is not
        error = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"peakday {command} {run_dir} exited {code}: {error[-2000:]}")
    peak_kb = int(peak_file.read_text(encoding="utf-8"))
    peak_file.unlink()
    return cpu_s, peak_kb / 1024.0


def side_by_side(
    run_dir: Path, trees: dict[str, Path | None], rounds: int
) -> dict[str, dict[str, tuple[float, float]]]:
    """command -> tree -> (best CPU s, peak MB) of `score` then `report`, the trees alternating,
    each on its own copy of `run_dir`."""
    copies = {}
    for tree in trees:
        copies[tree] = run_dir.with_name(f"{run_dir.name}-{tree}")
        shutil.copytree(run_dir, copies[tree], dirs_exist_ok=True)
    figures: dict[str, dict[str, tuple[float, float]]] = {}
    for command in ("score", "report"):
        taken: dict[str, list[tuple[float, float]]] = {tree: [] for tree in trees}
        for _ in range(rounds):
            for tree, src in trees.items():
                taken[tree].append(measure(command, copies[tree], src))
        figures[command] = {
            tree: (min(cpu for cpu, _ in runs), max(mb for _, mb in runs))
            for tree, runs in taken.items()
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="a real run's result.json")
    parser.add_argument("--hours", default="0.5,2,8")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="write the re-timed runs here (not a temp dir)")
    parser.add_argument("--against", type=Path, help="another checkout's src/, measured too")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each command (best CPU)")
    args = parser.parse_args()
    source_path = RunFolder.of(args.source).result
    source = json.loads(source_path.read_text(encoding="utf-8"))
    Result.model_validate(source)  # a result this version reads
    hours = [float(h) for h in args.hours.split(",")]
    trees: dict[str, Path | None] = {"this": None}
    if args.against:
        trees = {"against": args.against, "this": None}
    print(f"source: {source_path} ({len(source['timeline'])} rows), {args.steps} steps")
    if args.against:
        print(f"against: {args.against.resolve()}; this: {Path.cwd()}; best of {args.rounds}")
    print(
        f"{'hours':>5} {'tree':>7} {'rows':>8} {'result MB':>9} {'1st score cpu s':>15} "
        f"{'1st score MB':>12} {'score cpu s':>11} {'score MB':>9} "
        f"{'report cpu s':>12} {'report MB':>9} {'html MB':>8}"
    )
    with tempfile.TemporaryDirectory(prefix="peakday-long-") as temporary:
        work = args.keep or Path(temporary)
        for hour in hours:
            run_dir = work / f"{hour}h"
            run_dir.mkdir(parents=True, exist_ok=True)
            data = retimed(source, hour, args.steps)
            folder = RunFolder(run_dir)
            folder.result.write_text(json.dumps(data), encoding="utf-8")
            rows = len(data["timeline"])
            del data
            # The first score reads the file as written above (one line, as an older peakday
            # wrote it) and rewrites it in the current layout; the later ones read that.
            first_s, first_mb = measure("score", run_dir)
            size_mb = folder.result.stat().st_size / 1e6  # as `score` rewrote it
            figures = side_by_side(run_dir, trees, args.rounds)
            for tree in trees:
                html = RunFolder(run_dir.with_name(f"{run_dir.name}-{tree}")).report("report.html")
                score_s, score_mb = figures["score"][tree]
                report_s, report_mb = figures["report"][tree]
                first = f"{first_s:>15.1f} {first_mb:>12.0f}" if tree == "this" else " " * 28
                print(
                    f"{hour:>5g} {tree:>7} {rows:>8} {size_mb:>9.1f} {first} "
                    f"{score_s:>11.1f} {score_mb:>9.0f} {report_s:>12.1f} {report_mb:>9.0f} "
                    f"{html.stat().st_size / 1e6:>8.2f}",
                    flush=True,
                )
            if args.against:
                ratio = {c: figures[c]["this"][0] / figures[c]["against"][0] for c in figures}
                print(
                    f"{hour:>5g} {'ratio':>7} {'':>8} {'':>9} {'':>28} {ratio['score']:>10.2f}x "
                    f"{'':>9} {ratio['report']:>11.2f}x",
                    flush=True,
                )


if __name__ == "__main__":
    main()
