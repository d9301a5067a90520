"""How fast server-side signals see a fault, measured side by side in the same runs.

Runs experiments/server-side-signals.yaml (auth answers 503 to half the logins for 9 s) and
prints, per run and as medians, seconds after the fault was applied:
  sample lag    the end of the first per-second Prometheus sample whose login error ratio > 0
  client        when the load generator saw it (the matrix's time to detect)
  server SLO    the end of the first second the server-side SLO's objective (< 5%) was missed
  alert         when LoginErrorRate fired (time to alert; its `for:` is 2 s)

    .venv/bin/python bench/prometheus_lag.py [--runs 3] [--platform docker]

On docker, Prometheus is a container on the run's network (peakday/prometheus).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from peakday.results.store import load_result

REPO = Path(__file__).resolve().parent.parent
EXPERIMENT = REPO / "experiments" / "server-side-signals.yaml"
SERIES = "prometheus:server-login-errors-fault"


def one_run(
    out: Path, platform: str
) -> tuple[float | None, float | None, float | None, float | None]:
    env = {**os.environ, "PEAKDAY_TOOLS_DIR": os.environ.get("PEAKDAY_TOOLS_DIR", "")}
    subprocess.run(
        [sys.executable, "-m", "peakday", "run", str(EXPERIMENT), "--platform", platform,
         "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    result = load_result(out)
    (fault,) = result.faults
    start = fault.applied_at_s
    if start is None:
        return None, None, None, None
    rows = sorted(
        (r for r in result.server_timeline if r.name == SERIES and r.t_s + 1 > start),
        key=lambda r: r.t_s,
    )
    seen = next((r.t_s + 1 - start for r in rows if r.value), None)
    breach = next(
        (r.t_s + 1 - start for r in rows if r.value is not None and r.value >= 0.05), None
    )
    client = result.fault_impacts[0].time_to_detect_s if result.fault_impacts else None
    alert = next((a.time_to_alert_s for a in result.alerts if a.alert == "LoginErrorRate"), None)
    return seen, client, breach, alert


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def median(values: list[float | None]) -> str:
    present = [v for v in values if v is not None]
    return f"{statistics.median(present):.2f}" if present else "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--platform", choices=("local", "docker"), default="local")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.runs):
            rows.append(one_run(Path(tmp) / f"run{n}", args.platform))
            seen, client, breach, alert = rows[-1]
            print(
                f"run {n + 1}: sample lag {fmt(seen)} s, client {fmt(client)} s, "
                f"server SLO {fmt(breach)} s, alert {fmt(alert)} s"
            )
    columns = list(zip(*rows, strict=True))
    print(
        f"median over {args.runs} runs (s after the fault): sample lag {median(list(columns[0]))}, "
        f"client-side detection {median(list(columns[1]))}, server-side SLO breach "
        f"{median(list(columns[2]))}, alert firing {median(list(columns[3]))}"
    )


if __name__ == "__main__":
    main()
