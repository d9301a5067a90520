"""`peakday history`: past runs under results/ with verdict, score and each experiment's trend."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

log = logging.getLogger(__name__)


def find_results(root: Path) -> list[Path]:
    """Every result.json under `root` (a run folder may sit one or two levels deep)."""
    if not root.is_dir():
        return []
    return sorted({*root.glob("*/result.json"), *root.glob("*/*/result.json")})


@click.command()
@click.option("--experiment", "experiment", help="Only runs of this experiment.")
@click.option(
    "--results",
    "results_dir",
    type=click.Path(path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Folder holding run folders.",
)
@click.option(
    "-n", "--limit", type=click.IntRange(min=1), default=30, show_default=True,
    help="Show at most this many of the latest runs.",
)  # fmt: skip
def history(experiment: str | None, results_dir: Path, limit: int) -> None:
    """List past runs with verdict and score, oldest first, and each experiment's trend.

    \b
    Examples:
      peakday history
      peakday history --experiment cyber-monday-login-outage --results ci-results
    """
    from peakday.console import make_console
    from peakday.reporting.history import HistoryEntry, entry_from_json, format_history

    entries: list[HistoryEntry] = []
    skipped = 0
    for path in find_results(results_dir):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.debug("skipping %s: %s", path, error)
            skipped += 1
            continue
        entry = entry_from_json(str(path.parent), data) if isinstance(data, dict) else None
        if entry is None:
            skipped += 1
        elif experiment is None or entry.experiment == experiment:
            entries.append(entry)
    entries.sort(key=lambda e: (e.started_at, e.run_id))
    console = make_console()
    if not entries:
        which = f" of {experiment!r}" if experiment else ""
        console.print(
            f"No runs{which} in {str(results_dir)!r}. Hint: 'peakday run' writes to results/ "
            "by default; pass --results for another folder.",
            markup=False,
        )
        return
    console.print(format_history(entries[-limit:]))
    if skipped:
        console.print(f"({skipped} unreadable result.json file(s) skipped)", markup=False)
