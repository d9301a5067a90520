"""Load generator cost: CPU seconds per request of each generator, side by side in one run.

nginx (Debian's nginx-light, started and stopped here on loopback with its own prefix) serves a
static JSON file and canned storefront answers, pinned to core 0; each generator runs pinned to
core 1 (taskset). CPU is the whole command's process tree (getrusage of reaped children, so
Locust, peakday's orchestrator and toxiproxy-server all count); requests are nginx's own count
(stub_status). Generators: plain Locust and `peakday run` (external platform, host given as a
URL) on the same HttpUser locustfile, the same two on a FastHttpUser locustfile, and the
storefront journeys on HttpUser (the old ones, bench/storefront_httpuser.py) and on FastHttpUser
(locustfiles/storefront.py), without think time. Then, unpinned, `peakday run` of the
FastHttpUser locustfile in one process vs a master and 2 workers: requests/s, and whether the
merged histograms count exactly what Locust counted.

    .venv/bin/python bench/generator.py [--seconds 15] [--users 20] [--rounds 1] [--skip-workers]
    .venv/bin/python bench/generator.py --plugin-only   # the plugin's per-request path alone

`--plugin-only` times the plugin's per-request path alone, in this process (no Locust run): 200,000
calls of MetricsWriter.on_request as Locust makes them (10,000 requests/s over two steps, latency
lognormal around 1.8 ms), then draining them into encoded histograms. Run it with
PYTHONPATH=<another checkout>/src to compare versions.

Targets: peakday / plain <= 1.03 for both user classes; journeys HttpUser / FastHttpUser >= 4;
2 workers / 1 process >= 1.8 in requests/s.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from peakday.results.store import load_result

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / ".tools" / "bin"
SERVER_CORE, GENERATOR_CORE = "0", "1"

NGINX_CONF = """\
worker_processes 1;
master_process off;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    default_type application/json;
    location = /item.json {{ root {prefix}/www; }}
    location = /login {{ return 200 '{{"access_token": "tok", "token_type": "bearer"}}'; }}
    location = /checkout {{ return 201 '{{"order_id": "ord_bench"}}'; }}
    location = /labels {{ return 201 '{{"label_id": "lbl_bench"}}'; }}
    location = /nginx_status {{ stub_status; }}
  }}
}}
"""

USER_LOCUSTFILE = """\
from locust import {user_class}, task


class Reader({user_class}):
    @task
    def item(self):
        self.client.get("/item.json", name="item")
"""

JOURNEYS_LOCUSTFILE = """\
import importlib.util

_spec = importlib.util.spec_from_file_location("journeys", {path!r})
_journeys = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_journeys)


class Shopper(_journeys.Shopper):
    think_time_s = (0.0, 0.0)


class Merchant(_journeys.Merchant):
    think_time_s = (0.0, 0.0)


class PosTerminal(_journeys.PosTerminal):
    think_time_s = (0.0, 0.0)
"""

EXPERIMENT = """\
name: generator-bench
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
  workers: {workers}
"""


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


class Nginx:
    """nginx on loopback with its own prefix, pinned to one core."""

    def __init__(self, work: Path, core: str | None) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.prefix = work / "nginx"
        (self.prefix / "www").mkdir(parents=True)
        (self.prefix / "www" / "item.json").write_text('{"id": 1, "name": "tea", "price": 250}\n')
        self.port = free_port()
        conf = self.prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=self.prefix, port=self.port))
        pin = ["taskset", "-c", core] if core is not None else []
        self.popen = subprocess.Popen(
            [*pin, binary, "-p", str(self.prefix), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.requests()
                break
            except OSError as error:
                if time.monotonic() > deadline or self.popen.poll() is not None:
                    message = f"nginx did not start; see {self.prefix}/error.log"
                    raise RuntimeError(message) from error
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> int:
        """Requests nginx has answered, not counting this status request."""
        with urllib.request.urlopen(f"{self.url}/nginx_status", timeout=5) as response:
            text = response.read().decode()
        return int(text.splitlines()[2].split()[2]) - 1

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


@dataclass(frozen=True)
class Measured:
    """One generator's run: whole-command CPU and requests, and the same over its steady state
    (from 2 s after the first request to 1 s before the last), which leaves out start-up and
    shutdown (imports, scoring, reports): the marginal cost of a request."""

    name: str
    cpu_s: float
    requests: int
    seconds: float
    by_process: dict[str, float]
    steady_cpu_s: float
    steady_requests: int
    steady_seconds: float

    @property
    def us_per_request(self) -> float:
        return self.cpu_s / max(1, self.requests) * 1e6

    @property
    def steady_us_per_request(self) -> float:
        return self.steady_cpu_s / max(1, self.steady_requests) * 1e6

    @property
    def steady_rps(self) -> float:
        return self.steady_requests / max(1e-9, self.steady_seconds)


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_name(process: psutil.Process) -> str:
    try:
        cmdline = process.cmdline()
    except psutil.Error:
        return "?"
    text = " ".join(cmdline)
    if "toxiproxy" in text:
        return "toxiproxy"
    if "--worker" in text:
        return "locust-worker"
    if "-m locust" in text or "locust_plugin" in text:
        return "locust"
    if "-m peakday" in text:
        return "peakday"
    return Path(cmdline[0]).name if cmdline else "?"


@dataclass(frozen=True)
class _Sample:
    monotonic: float
    tree_cpu_s: float
    requests: int


def _steady(samples: list[_Sample]) -> tuple[float, int, float]:
    """CPU, requests and seconds between 2 s after the first request and 1 s before the last."""
    serving = [sample for sample in samples if sample.requests > samples[0].requests]
    if len(serving) < 2:
        return 0.0, 0, 0.0
    last_growth = max(
        index
        for index in range(1, len(samples))
        if samples[index].requests > samples[index - 1].requests
    )
    first = next(s for s in samples if s.monotonic >= serving[0].monotonic + 2.0)
    last = max(
        (
            s
            for s in samples[: last_growth + 1]
            if s.monotonic <= samples[last_growth].monotonic - 1
        ),
        key=lambda s: s.monotonic,
        default=first,
    )
    return (
        last.tree_cpu_s - first.tree_cpu_s,
        last.requests - first.requests,
        last.monotonic - first.monotonic,
    )


def measure(name: str, argv: list[str], nginx: Nginx, cwd: Path, core: str | None) -> Measured:
    """Run `argv` (pinned to `core`), and take its process tree's CPU and nginx's requests."""
    pin = ["taskset", "-c", core] if core is not None else []
    before_requests, before_cpu = nginx.requests(), _children_cpu_s()
    started = time.monotonic()
    popen = subprocess.Popen(
        [*pin, *argv],
        cwd=cwd,
        env=generator_env(),
        stdout=subprocess.DEVNULL,
        stderr=open(cwd / f"{name}.err", "w"),  # noqa: SIM115 - closed with the process
    )
    seen: dict[int, tuple[str, float]] = {}  # pid -> (name, CPU so far), for the breakdown
    samples: list[_Sample] = []
    root = psutil.Process(popen.pid)
    while popen.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        for process in tree:
            try:
                times = process.cpu_times()
                label = seen[process.pid][0] if process.pid in seen else _process_name(process)
                seen[process.pid] = (label, times.user + times.system)
            except psutil.Error:
                pass
        cpu_now = sum(cpu for _, cpu in seen.values())
        samples.append(_Sample(time.monotonic(), cpu_now, nginx.requests() - before_requests))
        time.sleep(0.5)
    elapsed_s = time.monotonic() - started
    cpu_s = _children_cpu_s() - before_cpu
    requests = nginx.requests() - before_requests - len(samples)  # less the status requests
    by_process: dict[str, float] = {}
    for label, cpu in seen.values():
        by_process[label] = by_process.get(label, 0.0) + cpu
    steady_cpu, steady_requests, steady_s = _steady(
        [
            _Sample(sample.monotonic, sample.tree_cpu_s, sample.requests - index)
            for index, sample in enumerate(samples)
        ]
    )
    return Measured(
        name, cpu_s, requests, elapsed_s, by_process, steady_cpu, steady_requests, steady_s
    )


def generator_env() -> dict[str, str]:
    """Every generator imports from compiled bytecode, as an installed package does (pip
    compiles at install). A checkout's peakday run with PYTHONDONTWRITEBYTECODE=1 (as on this
    machine) recompiled its ~150 modules on every run, about 0.1 CPU s that Locust, from
    site-packages, never paid."""
    env = {"PEAKDAY_TOOLS_DIR": str(TOOLS), **os.environ}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "peakday-bench-pycache")
    return env


def warm_bytecode() -> None:
    """Compile peakday's modules once, before anything is measured (site-packages, where
    Locust lives, is compiled already)."""
    import peakday

    package = str(Path(peakday.__file__).parent)
    argv = [sys.executable, "-m", "compileall", "-q", package]
    subprocess.run(argv, env=generator_env(), check=True)


def locust_argv(locustfile: Path, users: int, seconds: int, host: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--only-summary",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds}s",
        "--host",
        host,
        "--stop-timeout",
        "2",
    ]


def peakday_argv(spec: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "peakday", "run", str(spec), "--out", str(out), "-q"]


def write_experiment(
    work: Path, name: str, locustfile: Path, port: int, users: int, seconds: int, workers: int
) -> Path:
    spec = work / f"{name}.yaml"
    spec.write_text(
        EXPERIMENT.format(
            port=port, locustfile=locustfile, users=users, seconds=seconds, workers=workers
        )
    )
    return spec


def journeys_env(url: str) -> None:
    for variable in ("PEAKDAY_AUTH_URL", "PEAKDAY_CHECKOUT_URL", "PEAKDAY_LABELS_URL"):
        os.environ[variable] = url
    os.environ.pop("PEAKDAY_CONFIRMATIONS_DIR", None)


def print_row(result: Measured) -> None:
    split = ", ".join(f"{k} {v:.1f}" for k, v in sorted(result.by_process.items()))
    print(
        f"  {result.name:<22} whole command {result.us_per_request:7.1f} us/request"
        f" ({result.requests} requests, {result.cpu_s:.1f} CPU s: {split});"
        f" steady {result.steady_us_per_request:6.1f} us/request at"
        f" {result.steady_rps:6.0f} req/s",
        flush=True,
    )


def pinned_round(work: Path, nginx: Nginx, users: int, seconds: int) -> dict[str, Measured]:
    files = {}
    for user_class in ("HttpUser", "FastHttpUser"):
        files[user_class] = work / f"reader_{user_class.lower()}.py"
        files[user_class].write_text(USER_LOCUSTFILE.format(user_class=user_class))
    for label, source in (
        ("journeys-HttpUser", REPO / "bench" / "storefront_httpuser.py"),
        ("journeys-FastHttpUser", REPO / "locustfiles" / "storefront.py"),
    ):
        files[label] = work / f"{label.lower().replace('-', '_')}.py"
        files[label].write_text(JOURNEYS_LOCUSTFILE.format(path=str(source)))
    results: dict[str, Measured] = {}
    for user_class in ("HttpUser", "FastHttpUser"):
        locustfile = files[user_class]
        name = f"plain-{user_class}"
        argv = locust_argv(locustfile, users, seconds, nginx.url)
        results[name] = measure(name, argv, nginx, work, GENERATOR_CORE)
        print_row(results[name])
        name = f"peakday-{user_class}"
        spec = write_experiment(work, name, locustfile, nginx.port, users, seconds, 0)
        argv = peakday_argv(spec, work / name)
        results[name] = measure(name, argv, nginx, work, GENERATOR_CORE)
        print_row(results[name])
    journeys_env(nginx.url)
    for label in ("journeys-HttpUser", "journeys-FastHttpUser"):
        argv = locust_argv(files[label], users, seconds, nginx.url)
        results[label] = measure(label, argv, nginx, work, GENERATOR_CORE)
        print_row(results[label])
    return results


def locust_count(run_dir: Path) -> int:
    with (run_dir / "locust_stats.csv").open() as handle:
        aggregated = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return int(aggregated["Request Count"])


def workers_round(work: Path, nginx: Nginx, users: int, seconds: int) -> None:
    locustfile = work / "reader_fasthttpuser.py"
    locustfile.write_text(USER_LOCUSTFILE.format(user_class="FastHttpUser"))
    rps = {}
    for workers in (0, 2):
        name = f"peakday-workers-{workers}"
        spec = write_experiment(work, name, locustfile, nginx.port, users, seconds, workers)
        result = measure(name, peakday_argv(spec, work / name), nginx, work, None)
        run = load_result(work / name)
        merged = sum(row.requests for row in run.timeline)
        counted = locust_count(work / name)
        rps[workers] = result.steady_rps
        print(
            f"  {name:<22} {rps[workers]:8.0f} req/s (steady state, nginx's count);"
            f" merged histograms {merged} {'==' if merged == counted else '!='} Locust's {counted}"
            f" (nginx {result.requests}; CPU {result.cpu_s:.1f} s)",
            flush=True,
        )
    ratio = rps[2] / rps[0]
    verdict = "meets" if ratio >= 1.8 else "misses"
    print(f"2 workers / 1 process requests/s = {ratio:.2f} ({verdict} the >= 1.8 target)")


def plugin_path(calls: int = 200_000) -> None:
    """Microseconds per request of the plugin's hot path and of draining, best of 3."""
    import random

    from peakday.load.loadplan import LoadPlan
    from peakday.load.locust_metrics import MetricsWriter

    rng = random.Random(1)
    times_ms = [rng.lognormvariate(0.6, 0.4) for _ in range(calls)]
    base = time.time()
    starts = [base + index / 10_000 for index in range(calls)]
    names = ("item", "login")
    best_on, best_drain = float("inf"), float("inf")
    for _ in range(3):
        with tempfile.TemporaryDirectory() as folder:
            plan = LoadPlan(
                metrics_file=str(Path(folder) / "m.jsonl"), duration_s=30, users=1, spawn_rate=1
            )
            writer = MetricsWriter(plan, None, lambda records: None)  # type: ignore[arg-type]
            writer.start_load(reference_wall=base)
            on_request = writer.on_request
            started = time.perf_counter()
            for index in range(calls):
                on_request(
                    request_type="GET",
                    name=names[index & 1],
                    response_time=times_ms[index],
                    response_length=40,
                    response=None,
                    context={},
                    exception=None,
                    start_time=starts[index],
                    url="http://127.0.0.1/item.json",
                )
            recorded = time.perf_counter()
            writer._write_settled(final=True)
            drained = time.perf_counter()
            best_on = min(best_on, (recorded - started) / calls * 1e6)
            best_drain = min(best_drain, (drained - recorded) / calls * 1e6)
    print(
        f"plugin per-request path: on_request {best_on:.2f} us/request, "
        f"draining to histograms {best_drain:.2f} us/request (best of 3, {calls} calls)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep run folders and logs here")
    parser.add_argument("--plugin-only", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops nginx
    if args.plugin_only:
        plugin_path()
        return
    work_root = args.keep or Path(tempfile.mkdtemp(prefix="peakday-generator-"))
    work_root.mkdir(parents=True, exist_ok=True)
    work_root.chmod(0o755)
    warm_bytecode()
    nginx = Nginx(work_root, SERVER_CORE)
    rounds: list[dict[str, Measured]] = []
    try:
        for index in range(args.rounds):
            print(f"round {index + 1} (nginx on core {SERVER_CORE}, generators on core 1):")
            work = work_root / f"round{index}"
            work.mkdir()
            rounds.append(pinned_round(work, nginx, args.users, args.seconds))
        nginx.stop()
        if not args.skip_workers:
            print("workers (nothing pinned; 2 cores):")
            nginx = Nginx(work_root / "unpinned", None)
            (work_root / "workers").mkdir()
            workers_round(work_root / "workers", nginx, args.users * 5, args.seconds)
    finally:
        nginx.stop()
        if args.keep is None:
            shutil.rmtree(work_root, ignore_errors=True)

    for kind in ("whole command", "steady state"):

        def mean_us(name: str, kind: str = kind) -> float:
            return statistics.mean(
                one[name].us_per_request
                if kind == "whole command"
                else one[name].steady_us_per_request
                for one in rounds
            )

        for user_class in ("HttpUser", "FastHttpUser"):
            ratio = mean_us(f"peakday-{user_class}") / mean_us(f"plain-{user_class}")
            verdict = "meets" if ratio <= 1.03 else "misses"
            print(
                f"{kind}: CPU/request peakday / plain Locust, {user_class}: {ratio:.3f}"
                f" ({verdict} <= 1.03)"
            )
        ratio = mean_us("journeys-HttpUser") / mean_us("journeys-FastHttpUser")
        verdict = "meets" if ratio >= 4 else "misses"
        print(
            f"{kind}: CPU/request storefront journeys HttpUser / FastHttpUser: {ratio:.2f}"
            f" ({verdict} >= 4)"
        )


if __name__ == "__main__":
    main()
