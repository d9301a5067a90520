from __future__ import annotations

from pathlib import Path

import pytest

from peakday.errors import UsageError
from peakday.orchestrator import refuse_used_run_dir


def test_a_new_or_empty_folder_is_accepted(tmp_path: Path) -> None:
    refuse_used_run_dir(tmp_path / "new")
    refuse_used_run_dir(tmp_path)


@pytest.mark.parametrize("left_over", ["events.jsonl", "metrics.jsonl", "result.json"])
def test_a_folder_holding_a_run_is_refused_with_a_hint(tmp_path: Path, left_over: str) -> None:
    (tmp_path / left_over).write_text("{}\n")
    with pytest.raises(UsageError) as raised:
        refuse_used_run_dir(tmp_path)
    assert left_over in str(raised.value)
    assert "Hint:" in str(raised.value)
    assert raised.value.exit_code == 2
