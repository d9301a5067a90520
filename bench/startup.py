"""Start-up and teardown of the storefront, local processes vs Docker containers, side by side.

up: from launching `peakday run` to every service healthy (the run's platform_ready event), so
it includes the CLI's own start. teardown: `Platform.stop()` after a `Platform.start()` through
the same factory the CLI uses (graceful stop, then containers and network removed). Images must
be built and cached ('peakday images build --offline'). Targets: local <= 3 s up, docker <= 15 s.

    .venv/bin/python bench/startup.py [--rounds 3] [--platforms local,docker]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peakday.platforms.factory import make_platform
from peakday.processes.children import ProcessGroup
from peakday.runconfig import RunOverrides, build_run_config

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / ".tools" / "bin"
TARGET_UP_S = {"local": 3.0, "docker": 15.0}

EXPERIMENT = """name: startup-bench
platform: {platform}
load: {{users: 1, spawn_rate: 1, duration: 2s, journeys: {{shopper: 1}}}}
"""


def cli_up_s(platform: str, work: Path) -> float:
    spec = work / f"{platform}.yaml"
    spec.write_text(EXPERIMENT.format(platform=platform))
    run_dir = work / f"run-{platform}-{time.monotonic_ns()}"
    env = {**os.environ, "PATH": f"{TOOLS}{os.pathsep}{os.environ['PATH']}"}
    launched = time.time()
    subprocess.run(
        [sys.executable, "-m", "peakday", "run", str(spec), "--out", str(run_dir), "-q",
         "--no-color"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
        check=False,
    )  # fmt: skip
    for line in (run_dir / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event["kind"] == "platform_ready":
            return float(event["wall"]) - launched
    raise SystemExit(f"{platform}: the platform never became ready; see {run_dir}")


def api_teardown_s(platform: str, work: Path) -> float:
    spec = work / f"{platform}.yaml"
    spec.write_text(EXPERIMENT.format(platform=platform))
    run_dir = work / f"api-{platform}-{time.monotonic_ns()}"
    config = build_run_config(
        spec,
        RunOverrides(out_dir=run_dir),
        environ={**os.environ, "PEAKDAY_TOOLS_DIR": str(TOOLS)},
        cwd=REPO,
    )
    group = ProcessGroup(config.folder.pids)
    started = make_platform(config, group)
    try:
        started.start()
    finally:
        begin = time.perf_counter()
        started.stop()
        took = time.perf_counter() - begin
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--platforms", default="local,docker")
    args = parser.parse_args()
    platforms = args.platforms.split(",")
    up: dict[str, list[float]] = {p: [] for p in platforms}
    down: dict[str, list[float]] = {p: [] for p in platforms}
    with tempfile.TemporaryDirectory(prefix="peakday-startup-") as tmp:
        work = Path(tmp)
        for _ in range(args.rounds):  # alternate, so machine drift hits both
            for platform in platforms:
                up[platform].append(cli_up_s(platform, work))
                down[platform].append(api_teardown_s(platform, work))
    print(f"{'platform':<9} {'up (median)':>12} {'up (max)':>9} {'teardown':>9}  target up")
    failed = False
    for platform in platforms:
        median_up = statistics.median(up[platform])
        ok = median_up <= TARGET_UP_S[platform]
        failed |= not ok
        print(
            f"{platform:<9} {median_up:>10.2f} s {max(up[platform]):>7.2f} s "
            f"{statistics.median(down[platform]):>7.2f} s  <= {TARGET_UP_S[platform]:.0f} s "
            f"{'ok' if ok else 'MISSED'}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
