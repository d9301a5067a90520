"""`peakday init` then `peakday run` of what it wrote, for real, from an empty folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_init_then_run_on_the_local_platform(tmp_path: Path) -> None:
    def peakday(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "peakday", *args],
            cwd=tmp_path,
            env=os.environ,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert peakday("init", "first").returncode == 0
    ran = peakday("run", "first.yaml", "--out", "out", "--no-color", "-q")
    assert ran.returncode in (0, 1), ran.stdout + ran.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["experiment"]["name"] == "first"
    assert result["verdict"] in ("pass", "warn", "fail")
