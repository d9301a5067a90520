"""Storefront journeys' CPU per request: the old HttpUser journeys vs the FastHttpUser ones.

The same measurement as bench/generator.py's journeys rows (its nginx, its canned /login,
/checkout and /labels answers, its zero-think-time journeys, plain `locust -f`, 20 users, nginx
pinned to core 0 and Locust to core 1, CPU of the process tree per request nginx answered), but
only those rows, alternated A/B/C in each round (the order reversed every other round) so that
a noisy machine touches every variant alike. Prints the median of each variant's CPU per request
and the median of the per-round ratios `old HttpUser / FastHttpUser`.

    .venv/bin/python bench/journeys.py [--rounds 5] [--seconds 12]
    .venv/bin/python bench/journeys.py --before /path/to/other/checkout   # before/after

`--bare` adds a bare GET on each client (bench/generator.py's reader locustfiles), printing
their own HttpUser / FastHttpUser ratio in the same rounds: what the journeys' ratio is bounded
by on this machine. `--before` adds that checkout's journeys (its locustfiles/storefront.py,
with its src first on PYTHONPATH) as a third variant, to compare a change with what it replaces.

Target (issue #16): old HttpUser / FastHttpUser >= 4.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generator  # bench/generator.py, beside this file

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--before", type=Path, help="another checkout, measured as 'before'")
    parser.add_argument(
        "--bare",
        action="store_true",
        help="also the bare clients (one GET, HttpUser and FastHttpUser): their own ratio",
    )
    args = parser.parse_args()
    variants: dict[str, tuple[Path, Path]] = {
        "old-HttpUser": (REPO / "bench" / "storefront_httpuser.py", REPO / "src"),
        "FastHttpUser": (REPO / "locustfiles" / "storefront.py", REPO / "src"),
    }
    if args.before is not None:
        before = args.before.resolve()
        variants["before-FastHttpUser"] = (before / "locustfiles" / "storefront.py", before / "src")
    work = Path(tempfile.mkdtemp(prefix="peakday-journeys-"))
    work.chmod(0o755)
    generator.warm_bytecode()
    nginx = generator.Nginx(work, generator.SERVER_CORE)
    services = generator.journeys_env(nginx.url)
    files = {}
    for name, (source, _) in variants.items():
        files[name] = work / f"{name.lower().replace('-', '_')}.py"
        files[name].write_text(generator.JOURNEYS_LOCUSTFILE.format(path=str(source)))
    if args.bare:
        readers = generator.write_locustfiles(work)
        for user_class in ("HttpUser", "FastHttpUser"):
            variants[f"bare-{user_class}"] = (readers[user_class], REPO / "src")
            files[f"bare-{user_class}"] = readers[user_class]
    runs: dict[str, list[generator.Measured]] = {name: [] for name in variants}
    pythonpath = os.environ.get("PYTHONPATH", "")
    try:
        for index in range(args.rounds):
            order = list(variants) if index % 2 == 0 else list(reversed(variants))
            for name in order:
                os.environ["PYTHONPATH"] = os.pathsep.join(
                    part for part in (str(variants[name][1]), pythonpath) if part
                )
                argv = generator.locust_argv(files[name], args.users, args.seconds, nginx.url)
                measured = generator.measure(
                    f"{name}-{index}", argv, nginx, work, generator.GENERATOR_CORE, services
                )
                if measured.requests < 100:
                    raise SystemExit(f"{name} sent {measured.requests} requests: no figure")
                runs[name].append(measured)
                print(
                    f"round {index + 1} {name:<20} {measured.us_per_request:7.1f} us/request"
                    f" whole command, {measured.steady_us_per_request:7.1f} steady"
                    f" ({measured.steady_rps:5.0f} req/s)",
                    flush=True,
                )
    finally:
        nginx.stop()
        shutil.rmtree(work, ignore_errors=True)
    for kind in ("whole command", "steady state"):

        def cost(run: generator.Measured, kind: str = kind) -> float:
            return run.us_per_request if kind == "whole command" else run.steady_us_per_request

        medians = ", ".join(
            f"{name} {statistics.median(cost(run) for run in done):.1f}"
            for name, done in runs.items()
        )
        print(f"{kind}: median us/request: {medians}")
        pairs = [
            ("old-HttpUser", name)
            for name in variants
            if name.endswith("FastHttpUser") and not name.startswith("bare-")
        ]
        if args.bare:
            pairs.append(("bare-HttpUser", "bare-FastHttpUser"))
        for slow, name in pairs:
            ratios = [
                cost(old) / cost(new) for old, new in zip(runs[slow], runs[name], strict=True)
            ]
            ratio = statistics.median(ratios)
            verdict = "meets" if ratio >= 4 else "misses"
            listed = " ".join(f"{one:.2f}" for one in ratios)
            print(
                f"{kind}: {slow} / {name} = {ratio:.2f} median of rounds [{listed}]"
                + (f" ({verdict} >= 4)" if slow == "old-HttpUser" else " (for comparison)")
            )


if __name__ == "__main__":
    main()
