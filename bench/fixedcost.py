"""peakday's fixed cost per `peakday run`: CPU seconds of the orchestrator and of its Locust
process, two checkouts side by side (alternating, several rounds, medians), plus plain Locust.

The bench's case of bench/generator.py: the external platform, a user locustfile (HttpUser, no
wait) against a static JSON file served by nginx (started here on loopback, pinned to core 0),
the generator pinned to core 1. CPU is exact per process: a sitecustomize.py (in a folder put
first on PYTHONPATH for the measured commands only) writes each Python process's own
getrusage(RUSAGE_SELF) at exit; the whole command is getrusage(RUSAGE_CHILDREN) of this
process (so toxiproxy-server counts). `--wait 1` gives each user a 1 s wait, so that requests
cost little and what is left is the fixed cost (start-up, the per-second work, the end).

    .venv/bin/python bench/fixedcost.py --baseline /work/main/src --candidate src \
        [--rounds 5] [--seconds 15] [--users 20] [--wait 0] [--no-plain]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generator import GENERATOR_CORE, SERVER_CORE, Nginx  # bench/generator.py, beside this

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / ".tools" / "bin"

LOCUSTFILE = """\
from locust import HttpUser, constant, task


class Reader(HttpUser):
    wait_time = constant({wait})

    @task
    def item(self):
        self.client.get("/item.json", name="item")
"""

EXPERIMENT = """\
name: fixedcost-bench
platform: external
external:
  upstreams: {{web: "127.0.0.1:{port}"}}
  proxies: {{web_front: web}}
  locustfile: {locustfile}
  host: "http://127.0.0.1:{port}"
load:
  users: {users}
  spawn_rate: {users}
  duration: {seconds}s
"""

# Written into a folder first on PYTHONPATH of the measured commands: every Python process
# writes its own CPU seconds at exit (Locust and peakday both end through sys.exit).
SITECUSTOMIZE = """\
import atexit, os, resource, sys

def _write_cpu():
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    argv = " ".join(sys.argv)
    name = "locust" if "locust" in argv else "peakday" if "peakday" in argv else "python"
    path = os.path.join(os.environ["FIXEDCOST_CPU_DIR"], f"{name}-{os.getpid()}")
    with open(path, "w") as handle:
        handle.write(f"{own.ru_utime + own.ru_stime} {reaped.ru_utime + reaped.ru_stime}")

if os.environ.get("FIXEDCOST_CPU_DIR"):
    atexit.register(_write_cpu)
"""


@dataclass
class Measured:
    """One command: the whole tree's CPU, each Python process's own, requests, exit code."""

    whole_s: float
    by_process: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    exit_code: int = 0


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(argv: list[str], src: Path | None, work: Path, nginx: Nginx) -> Measured:
    cpu_dir = Path(tempfile.mkdtemp(dir=work, prefix="cpu-"))
    env = {"PEAKDAY_TOOLS_DIR": str(TOOLS), **os.environ, "FIXEDCOST_CPU_DIR": str(cpu_dir)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: from compiled bytecode
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "peakday-fixedcost-pycache")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(work / "site")] + ([str(src)] if src is not None else [])
    )
    before_requests, before_cpu = nginx.requests(), _children_cpu_s()
    completed = subprocess.run(
        ["taskset", "-c", GENERATOR_CORE, *argv],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    measured = Measured(_children_cpu_s() - before_cpu)
    measured.requests = nginx.requests() - before_requests - 1
    measured.exit_code = completed.returncode
    own: dict[str, float] = {}
    reaped: dict[str, float] = {}
    for path in cpu_dir.iterdir():
        name = path.name.rsplit("-", 1)[0]
        own_s, reaped_s = (float(value) for value in path.read_text().split())
        own[name] = own.get(name, 0.0) + own_s
        reaped[name] = reaped.get(name, 0.0) + reaped_s
    if "peakday" in own:
        # The orchestrator's children (Locust, toxiproxy-server) are reaped before it exits.
        measured.by_process["orchestrator"] = measured.whole_s - reaped["peakday"]
        measured.by_process["locust"] = own.get("locust", 0.0)
        measured.by_process["locust exit, toxiproxy"] = reaped["peakday"] - own.get("locust", 0.0)
    else:
        measured.by_process["locust"] = own.get("locust", 0.0)
        measured.by_process["locust exit"] = measured.whole_s - own.get("locust", 0.0)
    return measured


def compile_bytecode(src: Path) -> None:
    env = {**os.environ, "PYTHONPYCACHEPREFIX": "/tmp/peakday-fixedcost-pycache"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="src folder of the old code")
    parser.add_argument("--candidate", type=Path, required=True, help="src folder of the new")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--wait", type=float, default=0.0, help="each user's wait, seconds")
    parser.add_argument("--no-plain", action="store_true", help="skip plain Locust")
    parser.add_argument("--keep", type=Path, help="keep run folders here")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="peakday-fixedcost-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "site").mkdir(exist_ok=True)
    (work / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    locustfile = work / "reader.py"
    locustfile.write_text(LOCUSTFILE.format(wait=args.wait))
    sources = {"baseline": args.baseline.resolve(), "candidate": args.candidate.resolve()}
    for src in sources.values():
        compile_bytecode(src)
    nginx = Nginx(work, SERVER_CORE)  # bench/generator.py's nginx, pinned to core 0
    spec = work / "x.yaml"
    spec.write_text(
        EXPERIMENT.format(
            port=nginx.port, locustfile=locustfile, users=args.users, seconds=args.seconds
        )
    )
    results: dict[str, list[Measured]] = {"plain": [], **{name: [] for name in sources}}
    try:
        for name, src in sources.items():  # warm-up, not counted (site-packages' bytecode)
            argv = [sys.executable, "-m", "peakday", "run", str(spec), "--out", str(work / name)]
            warm = measure([*argv, "-q"], src, work, nginx)
            if warm.exit_code not in (0, 1, 4):
                raise SystemExit(f"peakday run ({name}) exited {warm.exit_code}; see {work}")
        for index in range(args.rounds):
            names = list(sources) if index % 2 == 0 else list(reversed(sources))
            for name in names:
                out = work / f"{name}-{index}"
                argv = [sys.executable, "-m", "peakday", "run", str(spec), "--out", str(out), "-q"]
                results[name].append(measure(argv, sources[name], work, nginx))
                _print_row(f"{name} #{index + 1}", results[name][-1])
            if not args.no_plain:
                argv = [
                    sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
                    "--only-summary", "-u", str(args.users), "-r", str(args.users),
                    "-t", f"{args.seconds}s", "--host", f"http://127.0.0.1:{nginx.port}",
                    "--stop-timeout", "2",
                ]  # fmt: skip
                results["plain"].append(measure(argv, None, work, nginx))
                _print_row(f"plain #{index + 1}", results["plain"][-1])
    finally:
        nginx.stop()
    print(f"medians of {args.rounds} rounds ({args.users} users, wait {args.wait} s, "
          f"{args.seconds} s; CPU seconds):")  # fmt: skip
    for name, runs in results.items():
        if runs:
            _print_median(name, runs)
    if results["plain"]:
        plain = statistics.median(m.whole_s / max(1, m.requests) for m in results["plain"])
        for name in sources:
            ratio = statistics.median(m.whole_s / max(1, m.requests) for m in results[name])
            print(f"  {name} / plain Locust, CPU per request: {ratio / plain:.3f}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


def _print_row(label: str, measured: Measured) -> None:
    split = ", ".join(f"{k} {v:.2f}" for k, v in sorted(measured.by_process.items()))
    print(
        f"  {label:<14} whole {measured.whole_s:6.2f} ({split});"
        f" {measured.requests} requests, {measured.whole_s / max(1, measured.requests) * 1e6:.1f}"
        f" us/request, exit {measured.exit_code}",
        flush=True,
    )


def _print_median(name: str, runs: list[Measured]) -> None:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    processes = sorted({key for run in runs for key in run.by_process})
    split = ", ".join(
        f"{key} {median([run.by_process.get(key, 0.0) for run in runs]):.2f}" for key in processes
    )
    print(
        f"  {name:<10} whole {median([run.whole_s for run in runs]):.2f} ({split}); "
        f"{median([run.whole_s / max(1, run.requests) * 1e6 for run in runs]):.1f} us/request"
    )


if __name__ == "__main__":
    main()
