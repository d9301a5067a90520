"""The compose platform, measured in one run on the two-service example project (examples/
compose: `app` calls `dep` by service name, a new connection per call):

1. bring-up and teardown time when peakday brings the project up itself (and down);
2. bring-up (intercept) and teardown (restore) time on a project that is already running;
3. the added latency of the intercepted hop: the app's response time with `dep` direct, then
   intercepted through peakday's Toxiproxy (no toxics), then direct again after the restore
   (the two direct phases bracket the intercepted one, so drift shows).

Needs Docker, the Compose v2 plugin and peakday/toxiproxy:0.1.0 (built offline); builds the
test app FROM peakday/python-base:bookworm, pulls nothing.

    .venv/bin/python bench/compose_platform.py [--requests 400]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from peakday.experiment.models import Compose
from peakday.images.engine import connect_docker
from peakday.platforms.compose_cli import ComposeTarget, SubprocessComposeCli
from peakday.platforms.compose_platform import ComposePlatform
from peakday.platforms.docker_client import DockerContainerEngine

REPO = Path(__file__).resolve().parent.parent
APP_DIR = REPO / "examples" / "compose"
APP_IMAGE = "peakday-test/compose-app:dev"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(url: str, requests: int) -> list[float]:
    """Milliseconds per GET / of the app (one kept-alive connection to the app)."""
    times = []
    with httpx.Client(trust_env=False, timeout=10) as client:
        for _ in range(20):  # warm-up
            client.get(url)
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"the app answered {response.status_code}: {response.text}")
    return times


def platform(
    engine: DockerContainerEngine, file: Path, project: str, run_dir: Path
) -> ComposePlatform:
    spec = Compose(
        file=str(file), project=project, intercept={"dep": 9000}, host="app:8080", locustfile="-"
    )
    return ComposePlatform(
        spec,
        run_dir,
        SubprocessComposeCli(),
        engine,
        run_id=f"bench{uuid.uuid4().hex[:8]}",
        experiment="bench",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    subprocess.run(
        ["docker", "build", "-q", "--pull=false", "-t", APP_IMAGE, str(APP_DIR)],
        check=True,
        capture_output=True,
    )
    engine = DockerContainerEngine(connect_docker().client)
    cli = SubprocessComposeCli()
    with tempfile.TemporaryDirectory(prefix="peakday-bench-compose-") as tmp:
        folder = Path(tmp)
        file = folder / "compose.yaml"
        shutil.copy(APP_DIR / "compose.yaml", file)
        project = f"pdbench-{uuid.uuid4().hex[:6]}"
        user = ComposeTarget(project, (file,))

        fresh = platform(engine, file, project, folder / "run-fresh")
        started = time.perf_counter()
        fresh.start()
        fresh_up_s = time.perf_counter() - started
        started = time.perf_counter()
        fresh.stop()
        fresh_down_s = time.perf_counter() - started

        cli.up(user)
        try:
            url = f"http://{cli.port(user, 'app', 8080)}/"
            direct_before = measure(url, args.requests)
            running = platform(engine, file, project, folder / "run-running")
            started = time.perf_counter()
            running.start()
            up_s = time.perf_counter() - started
            try:
                intercepted = measure(url, args.requests)
            finally:
                started = time.perf_counter()
                running.stop()
                down_s = time.perf_counter() - started
            direct_after = measure(url, args.requests)
        finally:
            cli.down(user)

    print(
        f"compose platform: two-service test project, Compose {compose_version()}, "
        f"{args.requests} requests per phase through the app (app -> dep, a new connection "
        "per call)"
    )
    print(
        f"  project peakday brought up:   up {fresh_up_s:5.2f} s   "
        f"teardown (down) {fresh_down_s:5.2f} s"
    )
    print(f"  project already running:      up {up_s:5.2f} s   teardown (restore) {down_s:5.2f} s")
    print(f"  {'phase':<28}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}")
    rows = (
        ("dep direct (before)", direct_before),
        ("dep intercepted", intercepted),
        ("dep direct (after restore)", direct_after),
    )
    for label, samples in rows:
        print(
            f"  {label:<28}{statistics.median(samples):8.2f}{percentile(samples, 0.9):8.2f}"
            f"{percentile(samples, 0.99):8.2f}"
        )
    direct = statistics.median(direct_before + direct_after)
    through = statistics.median(intercepted)
    print(
        f"  intercepted vs direct (p50): {through / direct:.2f}x, added {through - direct:+.2f} ms"
    )


def compose_version() -> str:
    done = subprocess.run(
        ["docker", "compose", "version", "--short"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "?"


if __name__ == "__main__":
    main()
