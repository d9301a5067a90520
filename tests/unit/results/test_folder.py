"""The run folder: refusing a used one, and writing result.json atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from peakday.errors import UsageError
from peakday.results.folder import RunFolder, write_text_atomic


def test_a_new_or_empty_folder_is_accepted(tmp_path: Path) -> None:
    RunFolder(tmp_path / "new").refuse_used()
    RunFolder(tmp_path).refuse_used()


@pytest.mark.parametrize("left_over", ["events.jsonl", "metrics.jsonl", "result.json"])
def test_a_folder_holding_a_run_is_refused_with_a_hint(tmp_path: Path, left_over: str) -> None:
    (tmp_path / left_over).write_text("{}\n")
    with pytest.raises(UsageError) as raised:
        RunFolder(tmp_path).refuse_used()
    assert left_over in str(raised.value)
    assert "Hint:" in str(raised.value)
    assert raised.value.exit_code == 2


def test_a_crash_while_writing_the_result_leaves_the_old_one_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = RunFolder(tmp_path)
    folder.write_result('{"old": true}')

    def power_cut(fd: int) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr("os.fsync", power_cut)
    with pytest.raises(OSError, match="disk gone"):
        folder.write_result('{"new": true, "and": "much more"}')
    assert folder.result.read_text() == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # no temporary left


def test_an_atomic_write_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "summary.md"
    write_text_atomic(path, "first")
    write_text_atomic(path, "second")
    assert path.read_text() == "second"
    assert sorted(p.name for p in path.parent.iterdir()) == ["summary.md"]


def test_the_folder_named_by_its_result_file_is_the_folder(tmp_path: Path) -> None:
    assert RunFolder.of(tmp_path / "result.json") == RunFolder(tmp_path)
    assert RunFolder.of(tmp_path) == RunFolder(tmp_path)


RUN_FOLDER_NAMES = {
    "result.json",
    "events.jsonl",
    "metrics.jsonl",
    "resources.jsonl",
    "load-plan.json",
    "pids.json",
    "toxiproxy-ledger.jsonl",
    "worker.env",
    "report.html",
    "summary.md",
    "summary.svg",
    "junit.xml",
    "confirmations",
    "logs",
}


def test_only_the_run_folder_spells_the_names_of_its_files() -> None:
    import ast

    package = Path(__file__).resolve().parents[3] / "src" / "peakday"
    spelled = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).as_posix() in (
            "results/folder.py",
            "images/build_contexts.py",
        ):
            continue  # the run folder itself; image builds keep logs of their own elsewhere
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in RUN_FOLDER_NAMES:
                spelled.append(f"{path.relative_to(package)}:{node.lineno} {node.value!r}")
    assert spelled == [], "use results.folder.RunFolder instead of spelling these: " + ", ".join(
        spelled
    )
