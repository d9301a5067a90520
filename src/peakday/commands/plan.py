"""`peakday plan EXPERIMENT`: the dry run a game-day facilitator reads before pressing go.

Phases, the fault schedule, the steady-state check, stop conditions and which SLOs are judged in
which phase; checks that every proxy, service and step named exists. Starts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command(name="plan")
@click.argument("experiment", type=click.Path(path_type=Path))
def plan(experiment: Path) -> None:
    """Show what a run would do (phases, faults, stop conditions, SLOs) without starting it.

    Exits 0 when everything the experiment names exists, 2 otherwise.
    """
    from peakday.experiment.loader import load_experiment
    from peakday.reporting.plan import format_plan, named_things_issues
    from peakday.results.reference import resolve_compare_to
    from peakday.topology import storefront_topology

    spec = load_experiment(experiment)
    if spec.scoring.compare_to is not None:
        resolve_compare_to(spec.scoring.compare_to)
    topology = storefront_topology()
    click.echo(format_plan(spec, str(experiment), topology))
    sys.exit(2 if named_things_issues(spec, topology) else 0)
