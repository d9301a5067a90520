from __future__ import annotations

from pathlib import Path

from peakday.results.eventlog import JsonlTail


def test_returns_only_new_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    tail = JsonlTail(path)
    assert tail.read_new() == []  # not written yet
    path.write_text('{"t_s": 0}\n{"t_s": 1}\n{"t_')
    assert tail.read_new() == [{"t_s": 0}, {"t_s": 1}]
    assert tail.read_new() == []
    with path.open("a") as handle:
        handle.write('s": 2}\nnot json\n[1]\n')
    assert tail.read_new() == [{"t_s": 2}]  # the finished line; junk and non-objects skipped
