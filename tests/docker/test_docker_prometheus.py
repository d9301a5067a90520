"""`monitoring: prometheus` on the docker platform: Prometheus runs as a labelled container on the
run's network (peakday/prometheus, Debian's binary), a server-side SLO on auth's login error rate
fails during the fault and passes at baseline, and nothing is left after the run or, after a
SIGKILL, after `peakday clean`."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from integration.peakday_process import (
    REPO,
    cli_env,
    load_result,
    peakday_clean,
    run_id_of,
    start_run,
    wait_for_load,
)
from peakday.platforms.docker_client import DockerContainerEngine

pytestmark = [pytest.mark.docker, pytest.mark.slow]

if shutil.which("prometheus") is None:  # pragma: no cover - CI installs it (.ci/run)
    pytestmark.append(
        pytest.mark.skip(reason="needs Debian's prometheus (apt-get install prometheus)")
    )

EXPERIMENT = "experiments/server-side-signals.yaml"


@pytest.fixture(scope="module")
def docker_signals(
    containers: DockerContainerEngine, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, str, Path, list[str]]:
    base = tmp_path_factory.mktemp("docker-prometheus")
    spec = (REPO / EXPERIMENT).read_text().replace("toxicity: 0.5", "toxicity: 1.0")
    assert "toxicity: 1.0" in spec  # every login fails at auth during the fault
    (base / "signals.yaml").write_text(spec)
    run = start_run(
        ["run", str(base / "signals.yaml"), "--platform", "docker", "--no-color"], base / "run"
    )
    code, out, err = run.wait(timeout_s=180)
    return code, out + err, base / "run", run.survivors()


def test_server_side_login_errors_fail_in_the_fault_and_pass_at_baseline_on_docker(
    docker_signals: tuple[int, str, Path, list[str]],
) -> None:
    _code, output, run_dir, _ = docker_signals
    result = load_result(run_dir)
    assert result.run.platform == "docker", output
    slos = {s.name: s for s in result.slos}
    baseline = slos["server-login-errors-baseline"]
    assert baseline.verdict == "pass" and baseline.value == 0, output
    fault = slos["server-login-errors-fault"]
    assert fault.verdict == "fail", output
    assert fault.value is not None and fault.value > 0.5
    series = [r for r in result.server_timeline if r.name == "prometheus:server-login-errors-fault"]
    assert len([r for r in series if r.value is not None]) >= 15  # scraped every second
    # the rules file reached the container: the storefront's alert fired during the fault
    (fired,) = [a for a in result.alerts if a.alert == "LoginErrorRate"]
    assert fired.firing_at_s is not None and fired.time_to_alert_s is not None, output
    assert "Prometheus at http://127.0.0.1:" in output


def test_the_prometheus_container_is_removed_with_the_run(
    leftovers: Callable[[str], list[str]], docker_signals: tuple[int, str, Path, list[str]]
) -> None:
    _code, output, run_dir, survivors = docker_signals
    run_id = run_id_of(run_dir)
    assert (run_dir / "prometheus" / "prometheus.yml").is_file()
    assert "auth:" in (run_dir / "prometheus" / "prometheus.yml").read_text()  # by DNS name
    assert leftovers(run_id) == [], output
    assert survivors == []


def test_clean_removes_the_prometheus_container_of_a_sigkilled_run(
    leftovers: Callable[[str], list[str]], tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    env = {**cli_env(), "PEAKDAY_STATE_DIR": str(tmp_path / "state")}
    popen = subprocess.Popen(
        [sys.executable, "-m", "peakday", "run", EXPERIMENT, "--platform", "docker",
         "--no-color", "--out", str(run_dir)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_load(popen, run_dir, timeout_s=90)
    popen.send_signal(signal.SIGKILL)
    popen.wait(timeout=10)
    run_id = run_id_of(run_dir)
    prometheus = f"peakday-{run_id.lower()}-prometheus"
    assert prometheus in leftovers(run_id)
    cleaned = peakday_clean(env)
    assert cleaned.returncode == 0, cleaned.stderr
    assert leftovers(run_id) == []
    assert prometheus in cleaned.stdout
