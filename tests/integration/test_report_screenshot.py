"""report.html opened in headless Chromium: the page is seen rendering its charts, not only made.

Screenshots are kept in results/screenshots/ for a human to look at. Without Chromium the test is
skipped on a workstation (with the reason shown by -ra) but fails in CI (CI or
PEAKDAY_REQUIRE_CHROMIUM set), where .ci/run installs Debian's chromium package.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from peakday.reporting.writer import write_reports
from unit.reporting.sample_results import load_smoke, scored

pytestmark = [pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench" / "screenshot_report.py"
SHOTS = REPO / "results" / "screenshots"


def _chromium_or_skip() -> None:
    sys.path.insert(0, str(BENCH.parent))
    try:
        from screenshot_report import find_chromium
    finally:
        sys.path.remove(str(BENCH.parent))
    if find_chromium() is not None:
        return
    message = "Chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI") or os.environ.get("PEAKDAY_REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"{message}; CI must install it to check the HTML report.")
    pytest.skip(message)


@pytest.mark.parametrize("case", ["smoke", "smoke-scored"])
def test_report_renders_its_charts_in_chromium(case: str, tmp_path: Path) -> None:
    _chromium_or_skip()
    result = load_smoke() if case == "smoke" else scored(load_smoke())
    write_reports(result, tmp_path)
    shot = SHOTS / f"report-{case}.png"
    completed = subprocess.run(
        [sys.executable, str(BENCH), str(tmp_path / "report.html"), "--out", str(shot)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert shot.stat().st_size > 50_000
