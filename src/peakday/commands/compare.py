"""`peakday compare DIR_A DIR_B`: what got better and worse, SLO by SLO; exit 1 on a regression."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option(
    "--noise",
    "relative_noise_pct",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    help="Latency and rps changes smaller than this percent of A's value are noise.",
)
@click.option(
    "--latency-floor",
    "latency_floor_ms",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Latency changes smaller than this many ms are noise.",
)
def compare(run_a: Path, run_b: Path, relative_noise_pct: float, latency_floor_ms: float) -> None:
    """Compare run B against run A (each a folder with result.json), SLO by SLO.

    \b
    A regression is an SLO that passed in A and fails in B, or a value that moved the wrong
    way by more than the noise: for latency --noise percent and --latency-floor ms, for
    success rate three binomial standard errors (from both runs' request counts), for rps
    --noise percent, for the score 5 points.
    \b
    Exit codes: 0 no regression, 1 a regression beyond noise, 2 a result cannot be read.
    Example:
      peakday compare results/main-baseline results/pr-1234
    """
    from peakday.console import make_console
    from peakday.reporting.compare import NoiseRules, compare_results, format_comparison
    from peakday.results.store import load_result

    before, after = load_result(run_a), load_result(run_b)
    rules = NoiseRules(relative=relative_noise_pct / 100.0, latency_floor_ms=latency_floor_ms)
    comparison = compare_results(before, after, rules)
    make_console().print(format_comparison(comparison, str(run_a), str(run_b)))
    sys.exit(1 if comparison.regressed else 0)
