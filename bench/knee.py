"""The checkout journey's knee per resilience profile, for 1 and 2 storefront workers.

The storefront runs as a run starts it (LocalPlatform: Toxiproxy, auth, checkout, labels, with
`--profile P --workers N`). An open-model generator (asyncio, raw HTTP/1.1 on kept-alive
connections, one request per scheduled arrival whatever the answers do) POSTs /checkout with a
shopper's token and a fresh Idempotency-Key at a fixed arrival rate for `--step-seconds`, then
steps the rate up by `--factor`. Latency counts from the scheduled arrival, so a server falling
behind shows as queueing, not as a lower rate. The knee is the highest rate whose step had p95
under 50 ms and no error (non-201, reset, timeout, or an arrival that found every connection busy
and --max-connections reached). Knee per core = knee / workers.

Logins happen once per shopper before the steps (scrypt is auth's deliberate cost, not the
journey's steady state); every checkout still checks its token against auth through the
auth_introspect proxy as the profile says (cache or not).

    PEAKDAY_TOOLS_DIR=.tools/bin .venv/bin/python bench/knee.py [--profiles standard,naive,hardened]
        [--workers 1,2] [--start-rate 50] [--factor 1.25] [--step-seconds 5]
        [--request health]    # GET /health: the HTTP stack alone, no auth call, no SQLite
        [--rounds 2]          # alternate 1,2,1,2 workers and print the median knee of each
        [--variant NAME=FLAGS ...]  # storefront flags compared side by side, alternating

Each step also prints the generator's own CPU per request (this process; uvloop when
installed), so a step the generator could not keep up with can be told from one the storefront
could not, and the server CPU per request (every process the bench started: Toxiproxy, the
three services and their workers), which moves far less with the machine's load than the knee.

The generator shares the machine with the services: on a 2-core machine, 2 workers and the
generator compete for the same cores, so the 2-worker figures are a lower bound of what 2 cores
of storefront give. The script prints what it measured; it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil

from peakday.platforms.local import LocalPlatform
from peakday.processes.children import ProcessGroup
from peakday.storefront.profiles import PROFILE_NAMES, profile_argv, resilience_for
from peakday.topology import storefront_topology

REPO = Path(__file__).resolve().parent.parent
P95_LIMIT_MS = 50.0
ORDER = json.dumps({"items": [{"sku": "SKU-1001", "quantity": 1}], "channel": "online"}).encode()
SHOPPERS = [f"shopper-{i:03d}" for i in range(20)]
REQUEST_TIMEOUT_S = 5.0
T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """The generator's event loop: uvloop when installed (about half the CPU per request of
    asyncio's own loop), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


@dataclass(frozen=True)
class Step:
    rate: float
    sent: int
    ok: int
    errors: int
    p95_ms: float
    achieved_rate: float
    generator_cpu_us: float  # the bench process's CPU per request sent during the step

    @property
    def passed(self) -> bool:
        return self.errors == 0 and self.ok == self.sent and self.p95_ms < P95_LIMIT_MS


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, host: str, path: str, headers: dict[str, str], body: bytes | None) -> int:
        method = "GET" if body is None else "POST"
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
        if body is not None:
            head += f"Content-Length: {len(body)}\r\nContent-Type: application/json\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        # The whole head in one read (one await instead of one per header line).
        status_line, *lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        length = 0
        for line in lines:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        await self.reader.readexactly(length)
        return int(status_line.split(b" ", 2)[1])

    def close(self) -> None:
        self.writer.close()


async def run_step(
    host: str,
    port: int,
    tokens: list[str],
    rate: float,
    seconds: float,
    max_connections: int,
    health: bool = False,
) -> Step:
    idle: list[Connection] = []
    opened = 0
    latencies: list[float] = []
    errors = 0
    created = 0
    total = int(rate * seconds)
    cpu_before = time.process_time()
    start = time.perf_counter() + 0.05

    async def one(scheduled: float, token: str) -> None:
        nonlocal opened, errors, created
        connection = idle.pop() if idle else None
        try:
            if connection is None:
                if opened >= max_connections:
                    errors += 1
                    return
                opened += 1
                reader, writer = await asyncio.open_connection(host, port)
                connection = Connection(reader, writer)
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
            path, body, expected = ("/health", None, 200) if health else ("/checkout", ORDER, 201)
            async with asyncio.timeout(REQUEST_TIMEOUT_S):  # no extra task, unlike wait_for
                status = await connection.send(f"{host}:{port}", path, headers, body)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            if connection is not None:
                connection.close()
                opened -= 1
            return
        latencies.append(time.perf_counter() - scheduled)
        idle.append(connection)
        if status == expected:
            created += 1
        else:
            errors += 1

    tasks = []
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, tokens[i % len(tokens)])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for connection in idle:
        connection.close()
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000 if latencies else float("inf")
    cpu_us = (time.process_time() - cpu_before) * 1e6 / max(1, total)
    return Step(rate, total, created, errors, p95, total / elapsed, cpu_us)


def server_cpu_s() -> float:
    """CPU seconds so far of every process this bench started (Toxiproxy, the services and
    their forked workers)."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def find_knee(
    url: str, tokens: list[str], args: argparse.Namespace, label: str
) -> tuple[float, list[Step]]:
    host_port = url.removeprefix("http://")
    host, port = host_port.rsplit(":", 1)
    rate = args.start_rate
    knee = 0.0
    steps: list[Step] = []
    # Warm up connections, JIT-free Python's caches and the introspection cache.
    run_async(run_step(host, int(port), tokens, 20, 1.0, args.max_connections))
    while rate <= args.max_rate:
        server_before = server_cpu_s()
        step = run_async(
            run_step(
                host,
                int(port),
                tokens,
                rate,
                args.step_seconds,
                args.max_connections,
                args.request == "health",
            )
        )
        server_us = (server_cpu_s() - server_before) * 1e6 / max(1, step.sent)
        steps.append(step)
        print(
            f"  {label}: rate {rate:7.1f}/s sent {step.sent:6d} achieved {step.achieved_rate:7.1f}"
            f"/s errors {step.errors:4d} p95 {step.p95_ms:8.1f} ms "
            f"generator {step.generator_cpu_us:4.0f} us/req server {server_us:5.0f} us/req "
            f"{'ok' if step.passed else 'OVER'}",
            flush=True,
        )
        if not step.passed:
            break
        knee = rate
        rate *= args.factor
    return knee, steps


def measure(
    profile: str, workers: int, variant_args: list[str], args: argparse.Namespace, label: str
) -> float:
    tools = [Path(d) for d in (os.environ.get("PEAKDAY_TOOLS_DIR"),) if d]
    with tempfile.TemporaryDirectory(prefix="peakday-knee-") as tmp:
        processes = ProcessGroup(Path(tmp) / "pids.json")
        extra = profile_argv(resilience_for(profile, {}))  # type: ignore[arg-type]
        if workers > 1:
            extra += ["--workers", str(workers)]
        extra += variant_args
        platform = LocalPlatform(
            storefront_topology(),
            Path(tmp) / "run",
            (*tools, REPO / ".tools" / "bin"),
            processes,
            storefront_extra=extra,
        )
        try:
            endpoints = platform.start()
            time.sleep(2.0)  # forked workers import and build their apps after /health answers
            auth = f"http://{endpoints.proxies['auth_login']}"
            tokens = []
            for user in SHOPPERS:
                response = httpx.post(
                    f"{auth}/login", json={"username": user, "password": f"pw-{user}"}, timeout=30
                )
                response.raise_for_status()
                tokens.append(str(response.json()["access_token"]))
            knee, _steps = find_knee(endpoints.services["checkout"], tokens, args, label)
        finally:
            platform.stop()
    return knee


def parse_variants(specs: list[str]) -> dict[str, list[str]]:
    """`NAME=FLAGS`: storefront flags added to every service, e.g.
    `gil5=--gil-switch-interval-ms 5`; none given: one variant, the storefront's defaults."""
    variants: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, flags = spec.partition("=")
        if not sep or not name:
            raise SystemExit(f"--variant wants NAME=FLAGS, got {spec!r}")
        variants[name] = shlex.split(flags)
    return variants or {"default": []}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--profiles", default=",".join(PROFILE_NAMES))
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--start-rate", type=float, default=50.0)
    parser.add_argument("--factor", type=float, default=1.25)
    parser.add_argument("--max-rate", type=float, default=20_000.0)
    parser.add_argument("--step-seconds", type=float, default=5.0)
    parser.add_argument("--max-connections", type=int, default=256)
    parser.add_argument(
        "--request",
        choices=("checkout", "health"),
        default="checkout",
        help="health: GET /health instead (no auth, no SQLite: the HTTP stack alone)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat every (variant, workers) this many times, alternating: 1,2,1,2 ...",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=FLAGS",
        help="storefront flags to compare side by side (repeatable), alternating with the others",
    )
    args = parser.parse_args()
    # SIGTERM ends the bench through its `finally`s, so the platform stops its children.
    signal.signal(signal.SIGTERM, lambda _s, _f: sys.exit(143))
    worker_counts = [int(w) for w in args.workers.split(",")]
    variants = parse_variants(args.variant)
    knees: dict[tuple[str, str, int], list[float]] = {}
    for profile in args.profiles.split(","):
        for round_ in range(args.rounds):
            for variant, flags in variants.items():
                for workers in worker_counts:
                    label = f"{profile} {variant} x{workers} round {round_ + 1}"
                    knee = measure(profile, workers, flags, args, label)
                    knees.setdefault((profile, variant, workers), []).append(knee)
    print(
        f"\ncpus: {os.cpu_count()}  step: {args.step_seconds:g} s  factor: {args.factor:g}  "
        f"request: {args.request}  rounds: {args.rounds} (median knee; 0 = first step failed)"
    )
    header = "profile".ljust(10) + "variant".ljust(10)
    for w in worker_counts:
        header += f"knee x{w} /s".rjust(13) + f"per core x{w}".rjust(14)
    print(header + "   rounds")
    for (profile, variant, _w), _ in list(knees.items())[:: len(worker_counts)]:
        row = profile.ljust(10) + variant.ljust(10)
        medians = []
        for workers in worker_counts:
            median = statistics.median(knees[profile, variant, workers])
            medians.append(median)
            row += f"{median:13.0f}{median / workers:14.0f}"
        if len(worker_counts) == 2 and medians[0] > 0:
            row += f"   x{worker_counts[1]}/x{worker_counts[0]} {medians[1] / medians[0]:.2f}"
        rounds = "; ".join(
            f"x{w}: " + ",".join(f"{k:.0f}" for k in knees[profile, variant, w])
            for w in worker_counts
        )
        print(row + "   " + rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
