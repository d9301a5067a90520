from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from peakday.reporting.history import HistoryEntry, entry_from_json, format_history, trend_word
from peakday.results.model import Result


def entry(score: float | None, verdict: str = "pass", started: str = "2026-01-01") -> HistoryEntry:
    return HistoryEntry("results/x", "smoke", "id", started, "completed", verdict, score, 5, 6)


def test_entry_reads_old_and_new_results(smoke_result: Result, scored_result: Result) -> None:
    old: dict[str, Any] = json.loads(smoke_result.model_dump_json())
    old.pop("outcome"), old.pop("score")
    first = entry_from_json("results/a", old)
    assert (
        first is not None
        and first.score is None
        and (first.slos_passed, first.slos_total) == (6, 6)
    )
    second = entry_from_json("results/b", json.loads(scored_result.model_dump_json()))
    assert second is not None and second.score == 92.5


def test_entry_ignores_what_is_not_a_result() -> None:
    assert entry_from_json("x", {"hello": "world"}) is None


def test_trend_word() -> None:
    assert trend_word([80.0, 90.0]) == "up +10"
    assert trend_word([90.0, 80.0]) == "down -10"
    assert trend_word([90.0, 91.0]) == "steady"
    assert trend_word([90.0]) == "—"


def test_history_table_shows_each_run_and_a_trend() -> None:
    console = Console(record=True, width=160, color_system=None)
    console.print(
        format_history([entry(70.0, "fail", "2026-01-01"), entry(95.0, "pass", "2026-01-02")])
    )
    text = console.export_text()
    assert "70/100" in text and "95/100" in text
    assert "up +25" in text and "✗✓" in text
