"""The pytest plugin, driven through pytester: a conftest fakes the run at the plugin's hook."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
RESULT = REPO / "tests" / "unit" / "reporting" / "fixtures" / "smoke-schema1.json"

FAKE_RUN = """
from pathlib import Path

from peakday.errors import EnvironmentProblem
from peakday.results.model import Result

MODE = "__MODE__"


def pytest_peakday_run_experiment(config, experiment_path, run_dir):
    calls = Path("calls.txt")
    calls.write_text((calls.read_text() if calls.exists() else "") + experiment_path.name + "\\n")
    if MODE == "environment":
        raise EnvironmentProblem("toxiproxy-server was not found. Hint: run 'make tools'.")
    result = Result.model_validate_json(Path(__RESULT__).read_text())
    slos = list(result.slos)
    if MODE == "fail":
        slos[0] = slos[0].model_copy(update={"value": 351.5, "verdict": "fail"})
        return result.model_copy(
            update={"slos": tuple(slos), "verdict": "fail", "outcome": "fail"}
        )
    if MODE == "warn":
        return result.model_copy(update={"verdict": "warn", "outcome": "warn"})
    if MODE == "baseline":
        return result.model_copy(update={"verdict": "fail", "outcome": "baseline-not-met"})
    if MODE == "inconclusive":
        slos[0] = slos[0].model_copy(update={"value": None, "verdict": "inconclusive"})
        return result.model_copy(
            update={"slos": tuple(slos), "verdict": "inconclusive", "outcome": "inconclusive"}
        )
    return result
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with experiments/smoke.yaml and a test that must not run with --peakday alone."""
    (pytester.path / "experiments").mkdir()
    shutil.copy(REPO / "experiments" / "smoke.yaml", pytester.path / "experiments" / "smoke.yaml")
    pytester.makepyfile(test_unrelated="def test_unrelated():\n    assert False, 'collected'\n")
    return pytester


def fake(pytester: pytest.Pytester, mode: str = "pass") -> None:
    pytester.makeconftest(
        FAKE_RUN.replace("__MODE__", mode).replace("__RESULT__", repr(str(RESULT)))
    )


def calls(pytester: pytest.Pytester) -> list[str]:
    path = pytester.path / "calls.txt"
    return path.read_text().split() if path.exists() else []


def test_experiment_runs_as_a_passing_test_and_alone(project: pytest.Pytester) -> None:
    fake(project)
    outcome = project.runpytest_inprocess("--peakday", "experiments/smoke.yaml", "-v")
    outcome.assert_outcomes(passed=1)
    outcome.stdout.fnmatch_lines(["*experiments/smoke.yaml::smoke PASSED*"])
    assert calls(project) == ["smoke.yaml"]


def test_with_paths_given_experiments_are_added_to_them(project: pytest.Pytester) -> None:
    fake(project)
    outcome = project.runpytest_inprocess(
        "test_unrelated.py", "--peakday", "experiments/smoke.yaml"
    )
    outcome.assert_outcomes(passed=1, failed=1)


def test_failed_slo_is_a_failure_whose_message_is_the_slo_table(project: pytest.Pytester) -> None:
    fake(project, "fail")
    outcome = project.runpytest_inprocess("--peakday", "experiments/smoke.yaml")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(
        [
            "*smoke: FAIL: login-fast-at-baseline (login p95 in phase baseline: measured 351.5 ms,"
            " objective < 250ms); 5 of 6 SLOs passed, run completed*",
            "*SLO*step*metric*phase*objective*measured*",
            "*FAIL*login-fast-at-baseline*login*p95*baseline*< 250ms*351.5 ms*",
            "*Report: *report.html*",
        ]
    )
    assert "Traceback" not in outcome.stdout.str()


def test_environment_problem_is_an_error_not_a_failure(project: pytest.Pytester) -> None:
    fake(project, "environment")
    outcome = project.runpytest_inprocess("--peakday", "experiments/smoke.yaml")
    outcome.assert_outcomes(errors=1)
    outcome.stdout.fnmatch_lines(["*peakday could not run*toxiproxy-server was not found*"])


def test_inconclusive_run_is_an_error(project: pytest.Pytester) -> None:
    fake(project, "inconclusive")
    outcome = project.runpytest_inprocess("--peakday", "experiments/smoke.yaml")
    outcome.assert_outcomes(errors=1)
    outcome.stdout.fnmatch_lines(["*Inconclusive: some SLOs had no data to judge.*"])


def test_baseline_not_met_is_an_error(project: pytest.Pytester) -> None:
    fake(project, "baseline")
    outcome = project.runpytest_inprocess("--peakday", "experiments/smoke.yaml")
    outcome.assert_outcomes(errors=1)
    outcome.stdout.fnmatch_lines(["*steady state did not hold before the first fault*"])


def test_warn_passes_with_a_warning(project: pytest.Pytester) -> None:
    fake(project, "warn")
    outcome = project.runpytest_inprocess("--peakday", "experiments/smoke.yaml")
    outcome.assert_outcomes(passed=1, warnings=1)
    outcome.stdout.fnmatch_lines(["*PeakdayWarning: smoke: WARN*"])


def test_missing_experiment_is_a_usage_error_naming_the_option(project: pytest.Pytester) -> None:
    outcome = project.runpytest_inprocess("--peakday", "experiments/nope.yaml")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*--peakday: no experiment file at 'experiments/nope.yaml'*"])


def test_invalid_experiment_is_a_collection_error(project: pytest.Pytester) -> None:
    (project.path / "experiments" / "bad.yaml").write_text("name: bad\nload: {users: 0}\n")
    outcome = project.runpytest_inprocess("--peakday", "experiments/bad.yaml")
    outcome.assert_outcomes(errors=1)
    outcome.stdout.fnmatch_lines(["*bad.yaml*load*"])


def test_marker_and_fixture_write_gates_sharing_one_run(project: pytest.Pytester) -> None:
    fake(project, "fail")
    project.makepyfile(
        test_gates="""
        import pytest

        pytestmark = pytest.mark.peakday("experiments/smoke.yaml")

        def test_logins_succeed(peakday_run):
            assert peakday_run.slo("login-succeeds").verdict == "pass"

        def test_every_slo(peakday_run):
            peakday_run.assert_slos()
        """
    )
    outcome = project.runpytest_inprocess("test_gates.py")
    outcome.assert_outcomes(passed=1, failed=1)
    outcome.stdout.fnmatch_lines(["*FAIL*login-fast-at-baseline*351.5 ms*"])
    assert calls(project) == ["smoke.yaml"]  # one run, shared


def test_fixture_without_marker_is_an_error(project: pytest.Pytester) -> None:
    fake(project)
    project.makepyfile(test_gate="def test_gate(peakday_run):\n    pass\n")
    outcome = project.runpytest_inprocess("test_gate.py")
    outcome.assert_outcomes(errors=1)
    outcome.stdout.fnmatch_lines(["*needs @pytest.mark.peakday('experiments/x.yaml')*"])


def test_marker_naming_a_missing_file_is_an_error(project: pytest.Pytester) -> None:
    fake(project)
    project.makepyfile(
        test_gate="""
        import pytest

        @pytest.mark.peakday("experiments/missing.yaml")
        def test_gate(peakday_run):
            pass
        """
    )
    outcome = project.runpytest_inprocess("test_gate.py")
    outcome.assert_outcomes(errors=1)
    outcome.stdout.fnmatch_lines(["*names 'experiments/missing.yaml', which is not a file*"])


@pytest.mark.integration
@pytest.mark.slow
def test_real_smoke_run_through_pytest(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """`pytest --peakday experiments/smoke.yaml` for real: toxiproxy, services, Locust."""
    out = tmp_path / "runs"
    outcome = pytester.runpytest_subprocess(
        "--peakday", str(REPO / "experiments" / "smoke.yaml"), "--peakday-out", str(out),
        "-p", "no:cacheprovider", timeout=180,
    )  # fmt: skip
    outcome.assert_outcomes(passed=1)
    (run_dir,) = out.iterdir()
    for name in ("result.json", "report.html", "summary.md", "junit.xml"):
        assert (run_dir / name).is_file(), name


EXTERNAL = """\
name: mine
platform: external
external:
  upstreams: {shop: "UPSTREAM"}
  proxies: {shop_front: shop}
  locustfile: shop_locust.py
  host: shop_front
  allow_non_local_targets: true
load: {users: 1, spawn_rate: 1, duration: 10s}
slos:
  - {name: items-ok, request: items, metric: success_rate, objective: ">= 99%"}
"""

# Stands in for the run itself (behind the plugin's own hook) and notes what it was given.
CAPTURE_RUN = """
from pathlib import Path

import peakday.orchestrator as orchestrator
from peakday.results.model import Result

REAL = orchestrator.run_experiment


def fake_run_experiment(config, make_platform, progress):
    Path("given.txt").write_text(f"{config.locustfile}\\n{config.experiment.platform}\\n")
    return Result.model_validate_json(Path(__RESULT__).read_text())


def pytest_configure(config):
    orchestrator.run_experiment = fake_run_experiment


def pytest_unconfigure(config):
    orchestrator.run_experiment = REAL
"""


def test_external_experiment_through_pytest_drives_the_users_locustfile(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "exp").mkdir()
    spec = EXTERNAL.replace("UPSTREAM", "127.0.0.1:8080")
    (pytester.path / "exp" / "mine.yaml").write_text(spec)
    (pytester.path / "exp" / "shop_locust.py").write_text("")  # inputs are checked before a run
    pytester.makeconftest(CAPTURE_RUN.replace("__RESULT__", repr(str(RESULT))))
    outcome = pytester.runpytest_inprocess("--peakday", "exp/mine.yaml")
    outcome.assert_outcomes(passed=1)
    locustfile, platform = (pytester.path / "given.txt").read_text().split()
    assert Path(locustfile) == (pytester.path / "exp" / "shop_locust.py").resolve()
    assert platform == "external"


def test_external_experiment_through_pytest_needs_consent_for_non_local_targets(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "exp").mkdir()
    (pytester.path / "exp" / "mine.yaml").write_text(EXTERNAL.replace("UPSTREAM", "10.9.8.7:80"))
    pytester.makeconftest(CAPTURE_RUN.replace("__RESULT__", repr(str(RESULT))))
    outcome = pytester.runpytest_inprocess("--peakday", "exp/mine.yaml")
    outcome.assert_outcomes(errors=1)
    outcome.stdout.fnmatch_lines(["*targets addresses off this machine*--allow-non-local*"])
    assert not (pytester.path / "given.txt").exists()  # refused before anything ran
