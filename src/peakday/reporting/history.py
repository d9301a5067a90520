"""Past runs at a glance: verdict and score per run, and each experiment's trend (pure).

Entries are read from result.json as plain JSON, not as a Result, so results written by older
(or newer) peakday versions still list: history is exactly where old runs show up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from peakday.reporting.formatting import format_score, sparkline
from peakday.reporting.terminal import VERDICT_STYLE


@dataclass(frozen=True)
class HistoryEntry:
    path: str
    experiment: str
    run_id: str
    started_at: str
    status: str
    verdict: str
    score: float | None
    slos_passed: int
    slos_total: int

    @property
    def pass_ratio(self) -> float | None:
        return self.slos_passed / self.slos_total if self.slos_total else None


def _get(data: Mapping[str, Any], *keys: str) -> Any:
    value: Any = data
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _score(value: Any) -> float | None:
    if isinstance(value, Mapping):
        value = next((value[k] for k in ("value", "total", "score") if k in value), None)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def entry_from_json(path: str, data: Mapping[str, Any]) -> HistoryEntry | None:
    """One history line from a parsed result.json; None when it is not a peakday result."""
    name = _get(data, "experiment", "name")
    run_id = _get(data, "run", "id")
    if not isinstance(name, str) or not isinstance(run_id, str):
        return None
    slos = data.get("slos") if isinstance(data.get("slos"), list) else []
    assert isinstance(slos, list)
    return HistoryEntry(
        path=path,
        experiment=name,
        run_id=run_id,
        started_at=str(_get(data, "run", "started_at") or ""),
        status=str(_get(data, "run", "status") or "?"),
        verdict=str(data.get("verdict") or "?"),
        score=_score(data.get("score")),
        slos_passed=sum(1 for s in slos if isinstance(s, Mapping) and s.get("verdict") == "pass"),
        slos_total=len(slos),
    )


def trend_values(entries: Sequence[HistoryEntry]) -> list[float | None]:
    """Scores when the runs have them, else the share of SLOs passed (0..100)."""
    if any(e.score is not None for e in entries):
        return [e.score for e in entries]
    return [None if e.pass_ratio is None else e.pass_ratio * 100 for e in entries]


def trend_word(values: Sequence[float | None], tolerance: float = 2.0) -> str:
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return "—"
    delta = present[-1] - present[-2]
    if delta > tolerance:
        return f"up {delta:+.0f}"
    if delta < -tolerance:
        return f"down {delta:+.0f}"
    return "steady"


def format_history(entries: Sequence[HistoryEntry]) -> RenderableType:
    """Runs oldest first, then one trend line per experiment."""
    if not entries:
        return Text("No runs found.")
    table = Table(title="Runs", title_justify="left")
    for column in ("started", "experiment", "verdict", "score", "SLOs", "status", "folder"):
        table.add_column(column)
    for entry in entries:
        table.add_row(
            escape(entry.started_at[:19].replace("T", " ")),
            escape(entry.experiment),
            Text(entry.verdict, style=VERDICT_STYLE.get(entry.verdict, "")),
            format_score(entry.score),
            f"{entry.slos_passed}/{entry.slos_total}",
            escape(entry.status),
            escape(entry.path),
        )
    trends = Table(
        title="Trend (oldest → newest; ✓ pass, ! warn, ✗ fail, ? other)", title_justify="left"
    )
    for column in ("experiment", "runs", "trend", "last change", "measure"):
        trends.add_column(column)
    by_experiment: dict[str, list[HistoryEntry]] = {}
    for entry in entries:
        by_experiment.setdefault(entry.experiment, []).append(entry)
    for name, runs in by_experiment.items():
        values = trend_values(runs)
        measure = "score" if any(r.score is not None for r in runs) else "% SLOs passed"
        verdicts = "".join(
            {"pass": "✓", "warn": "!", "fail": "✗"}.get(r.verdict, "?") for r in runs
        )
        trends.add_row(
            escape(name),
            str(len(runs)),
            f"{sparkline(values)}  {verdicts}",
            trend_word(values),
            measure,
        )
    return Group(table, trends)
