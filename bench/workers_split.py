"""Where a master and 2 workers lose throughput against one process, on this machine.

Alternates (1 process, 2 workers, ...) `peakday run` and plain Locust (`locust --master
--expect-workers 2` + 2 `locust --worker`) on bench/generator.py's FastHttpUser locustfile
against its nginx, nothing pinned, and for each run takes every process's CPU over the steady
window (generator.py's: 2 s after the first request to 1 s before the last), nginx's, the
machine's softirq and what other processes on the machine used meanwhile. Prints requests/s,
CPU per request by process, whether the merged histograms equal Locust's count, the median
ratio 2 workers / 1 process, and the ceiling the CPU costs allow on an otherwise idle machine:
one process gets a core to itself (nginx and the kernel on the other), so 1 / c; with workers
everything shares all the cores, so (cores - fixed) / (c + s), where c is the generator's CPU per
request and s nginx's plus softirq's.

    PYTHONPATH=src .venv/bin/python bench/workers_split.py [--rounds 4] [--seconds 20]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generator as gen  # the bench beside this one: its nginx, argv and experiment

from peakday.results.store import load_result

MODES = ("peakday-1", "peakday-2", "plain-1", "plain-2")
GENERATORS = ("locust", "worker")
FIXED = ("master", "orchestrator", "toxiproxy")


def plain_argv(locustfile: Path, users: int, seconds: int, host: str, workers: int) -> list[str]:
    master = gen.locust_argv(locustfile, users, seconds, host)
    if workers == 0:
        return master
    worker = f"{sys.executable} -m locust -f {locustfile} --worker --loglevel WARNING"
    script = " ".join(f"{worker} &" for _ in range(workers))
    return ["bash", "-c", f"{script} {' '.join(master)} --master --expect-workers {workers}; wait"]


def label(process: psutil.Process) -> str:
    try:
        text = " ".join(process.cmdline())
    except psutil.Error:
        return "other"
    for needle, name in (
        ("toxiproxy", "toxiproxy"),
        ("--worker", "worker"),
        ("--master", "master"),
        ("-m locust", "locust"),
        ("-m peakday", "orchestrator"),
    ):
        if needle in text:
            return name
    return "other"


def machine_busy() -> tuple[float, float]:
    times = psutil.cpu_times()
    busy = times.user + times.system + times.nice + times.irq + times.softirq
    return busy + getattr(times, "steal", 0.0), times.softirq


@dataclass(frozen=True)
class Run:
    rps: float
    cores: dict[str, float]  # per label, over the steady window

    def us_per_request(self, *names: str) -> float:
        return sum(self.cores.get(name, 0.0) for name in names) / max(self.rps, 1e-9) * 1e6


def measure(name: str, argv: list[str], nginx: gen.Nginx, cwd: Path) -> Run:
    before = nginx.requests()
    nginx_process = psutil.Process(nginx.popen.pid)
    with (cwd / f"{name}.err").open("w") as errors:
        popen = subprocess.Popen(
            argv, cwd=cwd, env=gen.generator_env(), stdout=subprocess.DEVNULL, stderr=errors
        )
        root = psutil.Process(popen.pid)
        seen: dict[int, tuple[str, float]] = {}
        samples: list[tuple[float, int, dict[str, float]]] = []
        while popen.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                tree = []
            for process in tree:
                try:
                    times = process.cpu_times()
                    name_of = seen[process.pid][0] if process.pid in seen else label(process)
                    seen[process.pid] = (name_of, times.user + times.system)
                except psutil.Error:
                    pass
            cores: dict[str, float] = {}
            for name_of, cpu in seen.values():
                cores[name_of] = cores.get(name_of, 0.0) + cpu
            nginx_times = nginx_process.cpu_times()
            cores["nginx"] = nginx_times.user + nginx_times.system
            cores["machine"], cores["softirq"] = machine_busy()
            requests = nginx.requests() - before - len(samples)  # less the status requests
            samples.append((time.monotonic(), requests, cores))
            time.sleep(0.5)
    served = [index for index in range(1, len(samples)) if samples[index][1] > samples[0][1]]
    grown = [index for index in range(1, len(samples)) if samples[index][1] > samples[index - 1][1]]
    start = next(i for i, s in enumerate(samples) if s[0] >= samples[served[0]][0] + 2.0)
    end = max(i for i in range(grown[-1] + 1) if samples[i][0] <= samples[grown[-1]][0] - 1.0)
    seconds = samples[end][0] - samples[start][0]
    rps = (samples[end][1] - samples[start][1]) / seconds
    cores = {
        key: (samples[end][2].get(key, 0.0) - samples[start][2].get(key, 0.0)) / seconds
        for key in samples[end][2]
    }
    ours = sum(value for key, value in cores.items() if key not in ("machine", "softirq"))
    cores["others"] = cores["machine"] - ours - cores["softirq"]
    return Run(rps, cores)


def ceiling(run: Run, cpu_count: int) -> float:
    """Requests/s this run's CPU costs allow on an idle machine."""
    generator_us = run.us_per_request(*GENERATORS)
    if "worker" not in run.cores:
        return 1e6 / generator_us
    fixed = sum(run.cores.get(name, 0.0) for name in FIXED)
    return (cpu_count - fixed) * 1e6 / (generator_us + run.us_per_request("nginx", "softirq"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--users", type=int, default=100)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="peakday-workers-"))
    work.chmod(0o755)
    gen.warm_bytecode()
    nginx = gen.Nginx(work, None)
    locustfile = work / "reader_fasthttpuser.py"
    locustfile.write_text(gen.USER_LOCUSTFILE.format(user_class="FastHttpUser"))
    cpu_count = psutil.cpu_count() or 1
    runs: dict[str, list[Run]] = {mode: [] for mode in MODES}
    try:
        for index in range(args.rounds):
            for mode in MODES:
                kind, processes = mode.split("-")
                workers = 0 if processes == "1" else int(processes)
                name = f"{mode}-{index}"
                if kind == "peakday":
                    spec = gen.write_experiment(
                        work, name, locustfile, nginx.port, args.users, args.seconds, workers
                    )
                    argv = gen.peakday_argv(spec, work / name)
                else:
                    argv = plain_argv(locustfile, args.users, args.seconds, nginx.url, workers)
                run = measure(name, argv, nginx, work)
                runs[mode].append(run)
                merged = ""
                if kind == "peakday":
                    total = sum(row.requests for row in load_result(work / name).timeline)
                    counted = gen.locust_count(work / name)
                    merged = f"; merged {total} {'==' if total == counted else '!='} {counted}"
                split = ", ".join(f"{key} {value:.2f}" for key, value in sorted(run.cores.items()))
                per_request = ", ".join(
                    f"{key} {run.us_per_request(key):.0f}"
                    for key in (*GENERATORS, "nginx", "softirq", *FIXED)
                    if key in run.cores
                )
                print(
                    f"{name:<12} {run.rps:6.0f} req/s; cores: {split}; "
                    f"us/request: {per_request}; idle ceiling {ceiling(run, cpu_count):.0f}"
                    f" req/s{merged}",
                    flush=True,
                )
    finally:
        nginx.stop()
        shutil.rmtree(work, ignore_errors=True)
    for kind in ("peakday", "plain"):
        one, two = runs[f"{kind}-1"], runs[f"{kind}-2"]
        measured = statistics.median(r.rps for r in two) / statistics.median(r.rps for r in one)
        rounds = [round(b.rps / a.rps, 2) for a, b in zip(one, two, strict=True)]
        idle = statistics.median(
            ceiling(b, cpu_count) / ceiling(a, cpu_count) for a, b in zip(one, two, strict=True)
        )
        print(
            f"{kind}: 2 workers / 1 process = {measured:.2f} (medians; rounds {rounds}); "
            f"idle-machine ceiling from CPU per request {idle:.2f} (median of rounds)"
        )


if __name__ == "__main__":
    main()
