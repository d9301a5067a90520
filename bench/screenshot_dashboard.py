"""Screenshots of the live dashboard of a real smoke run, for docs/game-day.md.

Runs `peakday run experiments/smoke.yaml --dashboard --dashboard-linger 30s`, opens the printed
URL in headless Debian Chromium (bench/cdp.py) and saves three PNGs: at baseline, under the
fault, and after the run (the final result). Exit 0 when all three were taken.

    .venv/bin/python bench/screenshot_dashboard.py [--out docs/images] [--projector]
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cdp import Browser

REPO = Path(__file__).resolve().parent.parent
URL = re.compile(r"dashboard: (http://\S+)")
PHASE = "document.getElementById('phase').textContent"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    parser.add_argument("--projector", action="store_true", help="large type mode")
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("PEAKDAY_TOOLS_DIR", str(REPO / ".tools" / "bin"))
    with tempfile.TemporaryDirectory(prefix="peakday-dashboard-shots-") as tmp:
        command = [sys.executable, "-m", "peakday", "run", "experiments/smoke.yaml", "-q",
                   "--no-color", "--out", f"{tmp}/run", "--dashboard",
                   "--dashboard-linger", "30s"]  # fmt: skip
        popen = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, text=True)  # fmt: skip
        found: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert popen.stderr is not None
            for line in popen.stderr:
                match = URL.search(line)
                if match:
                    found.put(match.group(1))

        threading.Thread(target=pump, daemon=True).start()
        url = found.get(timeout=60)
        if args.projector:
            url += "&projector=1"
        suffix = "-projector" if args.projector else ""
        try:
            with Browser.start(width=1400, height=2000) as browser:
                browser.open(url)
                browser.evaluate("1")
                browser.wait_for(f"{PHASE} === 'baseline'", timeout_s=60)
                time.sleep(4)
                browser.screenshot(args.out / f"dashboard-baseline{suffix}.png")
                browser.wait_for(f"{PHASE}.startsWith('fault')", timeout_s=60)
                time.sleep(5)
                browser.screenshot(args.out / f"dashboard-fault{suffix}.png")
                browser.wait_for("document.body.dataset.state === 'ended'", timeout_s=90)
                browser.wait_for("!document.getElementById('report-link').classList"
                                 ".contains('hidden')", timeout_s=30)  # fmt: skip
                time.sleep(1)
                browser.screenshot(args.out / f"dashboard-after{suffix}.png")
        finally:
            popen.terminate()
            popen.wait(timeout=60)
    print(f"wrote {args.out}/dashboard-{{baseline,fault,after}}{suffix}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
