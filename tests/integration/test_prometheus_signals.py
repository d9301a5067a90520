"""Server-side signals with a real Prometheus server (Debian's `prometheus`): one smoke-sized run
judges a PromQL SLO per phase and two alerts (a right rule and a deliberately wrong one); a bad
query stops a run with exit 2 before any load."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from integration.peakday_process import REPO, start_run
from peakday.dashboard.reader import FolderReader
from peakday.dashboard.state import build_snapshot
from peakday.results.folder import RunFolder
from peakday.results.model import Result

pytestmark = [pytest.mark.integration, pytest.mark.slow]

if shutil.which("prometheus") is None:  # pragma: no cover - CI installs it (.ci/run)
    pytestmark.append(
        pytest.mark.skip(reason="needs Debian's prometheus (apt-get install prometheus)")
    )

# The rule's `for:` and Prometheus's scrape interval (both seconds).
FOR_S = 2.0
SCRAPE_S = 1.0

WRONG_RULE = """
      - alert: LoginErrorsOnTheWrongRoute
        # wrong on purpose: auth serves /login, not /signin, so this never fires
        expr: >
          sum(rate(peakday_http_requests_total{route="/signin",status=~"5.."}[5s])) > 0
        for: 2s
"""


@pytest.fixture(scope="module")
def signals_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    base = tmp_path_factory.mktemp("prometheus")
    rules = (REPO / "src/peakday/monitoring/rules/storefront.yml").read_text() + WRONG_RULE
    (base / "rules.yml").write_text(rules)
    spec = (REPO / "experiments/server-side-signals.yaml").read_text()
    spec = spec.replace(
        "    - {fault: login-5xx, alert: LoginErrorRate}",
        "    - {fault: login-5xx, alert: LoginErrorRate}\n"
        "    - {fault: login-5xx, alert: LoginErrorsOnTheWrongRoute}\n"
        "  rules: rules.yml",
    )
    assert "rules: rules.yml" in spec
    # Every login fails during the fault, so the first 503 (which the alert needs) comes with
    # the next login rather than a coin toss later: the bound below is then for: + 2 scrapes.
    spec = spec.replace("toxicity: 0.5", "toxicity: 1.0")
    assert "toxicity: 1.0" in spec
    (base / "signals.yaml").write_text(spec)
    run = start_run(["run", str(base / "signals.yaml")], base / "run")
    code, out, err = run.wait(timeout_s=150)
    assert not run.survivors(), "Prometheus or a service outlived the run"
    return code, out + err, base / "run"


def load(run_dir: Path) -> Result:
    return Result.model_validate_json((run_dir / "result.json").read_text())


def test_server_side_login_error_slo_fails_in_the_fault_and_passes_at_baseline(
    signals_run: tuple[int, str, Path],
) -> None:
    _code, output, run_dir = signals_run
    result = load(run_dir)
    slos = {s.name: s for s in result.slos}
    assert slos["server-login-errors-baseline"].verdict == "pass", output
    assert slos["server-login-errors-baseline"].value == 0
    fault = slos["server-login-errors-fault"]
    assert fault.verdict == "fail", output
    assert fault.value is not None and fault.value > 0.5  # every login fails at auth
    series = [r for r in result.server_timeline if r.name == "prometheus:server-login-errors-fault"]
    assert len([r for r in series if r.value is not None]) >= 15  # a value nearly every second
    # The steady-state check judged the baseline up to where the fault was due, after waiting
    # for Prometheus to read it; the fault moved by that wait and kept its length.
    check = result.baseline_check
    assert check is not None and check.met, output
    assert check.at_s == pytest.approx(9.0, abs=0.5)
    assert check.waited_s <= 6.0
    (applied,) = result.faults
    assert applied.applied_at_s is not None and applied.removed_at_s is not None
    assert applied.applied_at_s - applied.planned_at_s == pytest.approx(check.waited_s, abs=0.5)
    assert applied.removed_at_s - applied.applied_at_s == pytest.approx(9.0, abs=0.5)


def test_the_storefront_alert_fires_within_its_for_plus_two_scrapes_and_clears(
    signals_run: tuple[int, str, Path],
) -> None:
    _code, output, run_dir = signals_run
    result = load(run_dir)
    (fired,) = [a for a in result.alerts if a.alert == "LoginErrorRate"]
    assert fired.fault == "login-5xx" and fired.expected
    assert fired.time_to_alert_s is not None, output
    assert 0 < fired.time_to_alert_s <= FOR_S + 2 * SCRAPE_S
    assert fired.pending_at_s is not None and fired.firing_at_s is not None
    assert fired.firing_at_s - fired.pending_at_s == pytest.approx(FOR_S, abs=0.01)
    (applied,) = result.faults
    assert applied.removed_at_s is not None and fired.cleared_at_s is not None
    assert fired.cleared_at_s > applied.removed_at_s
    check = {s.name: s for s in result.slos}["alert LoginErrorRate on login-5xx"]
    assert check.verdict == "pass" and check.kind == "alert"
    assert {s.name: s for s in result.slos}["no-alert-at-baseline"].verdict == "pass"


def test_the_reports_and_the_dashboard_draw_each_server_side_series(
    signals_run: tuple[int, str, Path],
) -> None:
    _code, output, run_dir = signals_run
    html = (run_dir / "report.html").read_text()
    charts = re.findall(r'<svg class="chart server".*?</svg>', html, re.S)
    assert len(charts) == 2, output  # one per `source: prometheus` SLO
    (fault,) = [c for c in charts if "server-login-errors-fault: server-side" in c]
    assert 'class="slo-line"' in fault and "server-login-errors-fault &lt; 5%" in fault
    assert "PromQL: (sum(rate(peakday_http_requests_total" in fault
    assert '<polyline class="series"' in fault and 'class="fault-band"' in fault
    assert "Server-side series (Prometheus)" in (run_dir / "summary.md").read_text()
    # The dashboard, replaying the run from its folder mid-fault (15 s: the fault is 9-18 s),
    # judges the server-side SLO from prometheus.jsonl and draws the same charts.
    reader = FolderReader(RunFolder(run_dir))
    reader.poll()
    snapshot = build_snapshot(reader.records, 0.0, until_s=15)
    assert snapshot.phase.startswith("fault"), snapshot.phase
    (live,) = [s for s in snapshot.slos if s.name == "server-login-errors-fault"]
    assert live.verdict == "fail" and live.measured != "—"
    assert [s.name for s in snapshot.server_series] == [
        "server-login-errors-baseline",
        "server-login-errors-fault",
    ]
    assert snapshot.server_series[1].last_value is not None
    assert snapshot.server_series[1].last_value > 0.5


def test_a_wrong_rule_never_fires_and_fails_its_check_in_every_report(
    signals_run: tuple[int, str, Path],
) -> None:
    code, output, run_dir = signals_run
    result = load(run_dir)
    (wrong,) = [a for a in result.alerts if a.alert == "LoginErrorsOnTheWrongRoute"]
    assert (wrong.pending_at_s, wrong.firing_at_s, wrong.time_to_alert_s) == (None, None, None)
    name = "alert LoginErrorsOnTheWrongRoute on login-5xx"
    check = {s.name: s for s in result.slos}[name]
    assert check.verdict == "fail"
    assert result.verdict == "fail" and code == 1, output
    for report in ("summary.md", "report.html", "junit.xml"):
        assert "LoginErrorsOnTheWrongRoute" in (run_dir / report).read_text(), report
    assert "LoginErrorsOnTheWrongRoute" in output
    raw = json.loads((run_dir / "result.json").read_text())
    assert {
        "fault",
        "alert",
        "pending_at_s",
        "firing_at_s",
        "time_to_alert_s",
        "cleared_at_s",
    } <= set(raw["alerts"][0])


def with_query(tmp_path: Path, query: str) -> Path:
    """experiments/server-side-signals.yaml with its first query replaced."""
    spec = (REPO / "experiments/server-side-signals.yaml").read_text()
    head, _, tail = spec.partition("    query: >\n")
    _old, _, rest = tail.partition("    objective:")
    path = tmp_path / "bad.yaml"
    path.write_text(f"{head}    query: '{query}'\n    objective:{rest}")
    return path


def test_a_query_that_does_not_parse_exits_2_before_anything_starts(tmp_path: Path) -> None:
    bad = 'sum(rate(peakday_http_requests_total{service="auth"}[3s])'  # one ')' short
    run = start_run(["run", str(with_query(tmp_path, bad))], tmp_path / "run")
    code, out, err = run.wait(timeout_s=60)
    assert code == 2, out + err
    assert bad in err and "parse error: unclosed left parenthesis" in err, err
    assert "bad.yaml:" in err and "slos[0].query" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run" / "events.jsonl").exists()  # refused before the run began


def test_a_query_prometheus_refuses_exits_2_before_any_load(tmp_path: Path) -> None:
    # parses (promtool accepts it), but Prometheus answers a range of samples, not one value
    many = "up[5s]"
    run = start_run(["run", str(with_query(tmp_path, many))], tmp_path / "run")
    code, out, err = run.wait(timeout_s=90)
    assert code == 2, out + err
    assert many in err and "gives a matrix, not an instant vector" in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "run" / "metrics.jsonl").exists()  # Locust never started
    events = (tmp_path / "run" / "events.jsonl").read_text()
    assert "platform_ready" in events and "load_started" not in events
    assert not run.survivors()


def test_an_existing_prometheus_server_is_used_as_it_is(tmp_path: Path) -> None:
    """monitoring: {prometheus: URL}: peakday starts no server and reads the user's one (here a
    real Prometheus that scrapes only itself, as the external platform would have)."""
    import socket
    import subprocess
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs: [{job_name: self, static_configs: "
        f"[{{targets: ['127.0.0.1:{port}']}}]}}]\n"
    )
    server = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        spec = f"""name: own-prometheus
monitoring: {{prometheus: 'http://127.0.0.1:{port}'}}
load: {{users: 4, spawn_rate: 4, duration: 8s, warmup: 2s, journeys: {{shopper: 1}}}}
slos:
  - {{name: self-scraped, source: prometheus, query: 'sum(up{{job="self"}})', objective: ">= 1"}}
  - {{name: nothing-there, source: prometheus, query: 'sum(no_such_metric)', objective: "< 1"}}
"""
        (tmp_path / "own.yaml").write_text(spec)
        run = start_run(["run", str(tmp_path / "own.yaml")], tmp_path / "run")
        code, out, err = run.wait(timeout_s=90)
        result = load(tmp_path / "run")
        slos = {s.name: s for s in result.slos}
        assert slos["self-scraped"].verdict == "pass", out + err
        assert slos["nothing-there"].verdict == "inconclusive"  # no data, never a pass
        assert code == 4, out + err  # inconclusive
        assert not (tmp_path / "run" / "prometheus").exists()  # no server of peakday's
        assert server.poll() is None  # the user's server is left running
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_shipped_rules_pass_promtool() -> None:
    import subprocess

    rules = REPO / "src/peakday/monitoring/rules/storefront.yml"
    done = subprocess.run(
        ["promtool", "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 4 rules found" in done.stdout
