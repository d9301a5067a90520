"""The reference run: the earlier run that reference objectives are judged against, and finding
and reading the one that `compare_to` names (I/O).

`compare_to` is a run folder (relative to the current directory), or the name of one under
results/; a "last good" run is pinned by name with a symlink:
    ln -sfn 20251201-143000-cyber-monday-login-outage results/last-good
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from peakday.errors import ResultError
from peakday.results.folder import RunFolder
from peakday.results.model import PhaseWindow, ReferenceInfo, TimelineRow
from peakday.results.store import load_result

RESULTS_DIR = Path("results")


@dataclass(frozen=True)
class ReferenceRun:
    """The earlier run that reference objectives ('<= +10%') are judged against."""

    info: ReferenceInfo
    timeline: Sequence[TimelineRow]
    phases: tuple[PhaseWindow, ...]


def resolve_compare_to(value: str, cwd: Path | None = None) -> Path:
    """The run folder `value` names: a path, else a name under results/."""
    base = cwd or Path.cwd()
    candidates = [base / value, base / RESULTS_DIR / value]
    for candidate in candidates:
        if RunFolder(candidate).result.is_file() or (
            candidate.is_file() and candidate.name.endswith(".json")
        ):
            return candidate
    raise ResultError(
        f"compare_to names {value!r}, but neither {str(candidates[0])!r} nor "
        f"{str(candidates[1])!r} holds a result.json. Hint: name a folder 'peakday run' wrote, "
        f"or pin one with 'ln -sfn RUN_FOLDER {RESULTS_DIR / value}'."
    )


def load_reference(value: str, cwd: Path | None = None) -> ReferenceRun:
    path = resolve_compare_to(value, cwd)
    result = load_result(path)
    return ReferenceRun(
        info=ReferenceInfo(
            path=str(path),
            run_id=result.run.id,
            experiment=result.experiment.name,
            verdict=result.verdict,
        ),
        timeline=result.timeline,
        phases=result.phases,
    )
