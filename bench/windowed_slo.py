"""The cost of judging an SLO per window, side by side with judging it over its whole phase.

    .venv/bin/python bench/windowed_slo.py RESULT_DIR [--step checkout] [--repeat 3]

On a saved run (its result.json), a p95 and an rps SLO are judged over phase 'all' as a whole,
per 10 s rolling window, per second with `within`, and per fault window with 10 s windows;
prints the median time of each and its ratio to the whole-phase judgement. Pure CPU: nothing is
started.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from peakday.experiment.models import Slo
from peakday.results.model import Result
from peakday.scoring.slo import evaluate_slo

VARIANTS: dict[str, dict[str, Any]] = {
    "whole phase": {"phase": "all"},
    "window 10s": {"phase": "all", "window": 10.0},
    "within (seconds)": {"phase": "all", "within": "95%"},
    "each-fault, window 10s": {"phase": "each-fault", "window": 10.0},
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result_dir", type=Path)
    parser.add_argument("--step", default="checkout")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    result = Result.model_validate_json((args.result_dir / "result.json").read_text("utf-8"))
    seconds = len({r.t_s for r in result.timeline})
    print(f"{args.result_dir}: {seconds} s of timeline, step {args.step!r}")
    for metric, objective in (("p95", "< 300ms"), ("rps", ">= 1 rps")):
        base: float | None = None
        for label, extra in VARIANTS.items():
            slo = Slo(name="b", request=args.step, metric=metric, objective=objective, **extra)
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                evaluate_slo(slo, result.timeline, result.phases)
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            base = median if base is None else base
            print(f"  {metric:4} {label:24} {median * 1000:8.1f} ms  x{median / base:5.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
