"""pytest plugin: experiments as test items, and a fixture and marker for writing your own gates.

    pytest --peakday experiments/smoke.yaml            one test item per experiment file
    @pytest.mark.peakday("experiments/x.yaml")         the experiment the peakday_run fixture runs

A failed SLO fails the test, with the SLO table as its message; an environment problem (a binary
missing, a service that will not come up, a bad experiment file) or an inconclusive run is an
error, not a failure. Hooks and fixtures only: peakday itself is imported when a run starts.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from peakday.results.model import Result, SloResult

log = logging.getLogger("peakday.pytest")


@dataclass(frozen=True)
class PeakdayRun:
    """One finished experiment run, as the `peakday_run` fixture hands it to a test."""

    experiment_path: Path
    run_dir: Path
    result: Result

    @property
    def failed_slos(self) -> tuple[SloResult, ...]:
        return tuple(s for s in self.result.slos if s.verdict == "fail")

    def slo(self, name: str) -> SloResult:
        for slo in self.result.slos:
            if slo.name == name:
                return slo
        names = ", ".join(repr(s.name) for s in self.result.slos) or "none"
        raise KeyError(f"No SLO named {name!r} in {self.experiment_path}; it has {names}.")

    @property
    def summary(self) -> str:
        """The verdict and SLO table as plain text, plus where the reports are."""
        from peakday.reporting.plaintext import format_result_text
        from peakday.results.folder import REPORT_HTML, RunFolder

        report = RunFolder(self.run_dir).report(REPORT_HTML)
        return f"{format_result_text(self.result)}\nReport: {report}"

    def assert_slos(self) -> None:
        """Fail the calling test, with the SLO table as message, unless the run held.

        The run's outcome decides, the same one `peakday run` exits with: pass and warn pass
        (a warn is reported as a PeakdayWarning); fail, and a stop condition that aborted the
        run, fail. A non-key SLO may fail in a run whose score still passes, as on the CLI.
        """
        __tracebackhide__ = True
        outcome = self.result.outcome
        if outcome in ("fail", "aborted"):
            pytest.fail(self.summary, pytrace=False)
        if outcome == "warn":
            warnings.warn(PeakdayWarning(self.summary), stacklevel=2)


class PeakdayWarning(UserWarning):
    """A run that passed with a warning (score between warn_score and pass_score)."""


class PeakdaySpecs:
    """Hooks this plugin adds; a conftest.py may implement them."""

    @pytest.hookspec(firstresult=True)
    def pytest_peakday_run_experiment(
        self, config: pytest.Config, experiment_path: Path, run_dir: Path
    ) -> Result | None:
        """Run one experiment into `run_dir` and return its Result (reports written).

        The plugin's own implementation runs it for real; implement this in a conftest.py to
        run it differently (another platform, a fake in tests). Raise for environment problems.
        """


_EXPERIMENTS = pytest.StashKey[frozenset[Path]]()
_RUNS = pytest.StashKey[dict[Path, "PeakdayRun | BaseException"]]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(PeakdaySpecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("peakday", "peakday chaos and load experiments")
    group.addoption(
        "--peakday",
        action="append",
        default=[],
        metavar="EXPERIMENT",
        help="Run this experiment file as a test (repeatable). Without other paths, only the "
        "experiments are collected.",
    )
    group.addoption(
        "--peakday-allow-non-local",
        action="store_true",
        default=False,
        help="Let external experiments reach targets off this machine (the experiment must also "
        "set external.allow_non_local_targets: true), as 'peakday run --allow-non-local'.",
    )
    group.addoption(
        "--peakday-out",
        default=None,
        metavar="DIR",
        help="Folder for the run folders (default: results/ under the rootdir).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "peakday(experiment): the experiment file the peakday_run fixture runs for this test.",
    )
    config.stash[_RUNS] = {}
    paths = []
    for name in config.getoption("peakday"):
        path = (config.invocation_params.dir / name).resolve()
        if not path.is_file():
            raise pytest.UsageError(
                f"--peakday: no experiment file at {name!r}. "
                f"Hint: pass a path such as experiments/smoke.yaml."
            )
        paths.append(path)
    config.stash[_EXPERIMENTS] = frozenset(paths)
    if paths:
        # Experiments alone unless paths were also given, so that `pytest --peakday x.yaml`
        # does not also run the whole test suite from testpaths.
        given = config.args if config.args_source == pytest.Config.ArgsSource.ARGS else []
        config.args = [*given, *(str(p) for p in paths)]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.resolve() in parent.config.stash.get(_EXPERIMENTS, frozenset()):
        return ExperimentFile.from_parent(parent, path=file_path)
    return None


class ExperimentFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from peakday.errors import SpecError
        from peakday.experiment.loader import load_experiment

        try:
            spec = load_experiment(self.path)
        except SpecError as error:
            raise self.CollectError(str(error)) from None
        yield ExperimentItem.from_parent(self, name=spec.name)


class ExperimentItem(pytest.Item):
    """Runs in setup (so environment problems are errors); judges the SLOs in the call."""

    run: PeakdayRun | None = None

    def setup(self) -> None:
        self.run = run_once(self.config, self.path)

    def runtest(self) -> None:
        assert self.run is not None
        self.run.assert_slos()

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"peakday experiment {self.name}"


def run_dir_for(config: pytest.Config, experiment_path: Path) -> Path:
    out = config.getoption("peakday_out")
    base = Path(out) if out else config.rootpath / "results"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return base / f"{stamp}-{experiment_path.stem}"


def run_once(config: pytest.Config, experiment_path: Path) -> PeakdayRun:
    """Run an experiment once per session; later tests of the same file share the run."""
    __tracebackhide__ = True
    runs = config.stash[_RUNS]
    key = experiment_path.resolve()
    if key not in runs:
        runs[key] = _run(config, key)
    outcome = runs[key]
    if isinstance(outcome, BaseException):
        pytest.fail(f"peakday could not run {experiment_path}: {outcome}", pytrace=False)
    # Nothing was judged: an error of the gate, not a failure of the system under test.
    if outcome.result.outcome == "baseline-not-met":
        pytest.fail(
            f"The steady state did not hold before the first fault, so no fault was injected."
            f"\n{outcome.summary}",
            pytrace=False,
        )
    if outcome.result.outcome == "inconclusive":
        reasons = outcome.result.load_health.reasons if outcome.result.load_health else ()
        why = " ".join(reasons) or "some SLOs had no data to judge."
        pytest.fail(f"Inconclusive: {why}\n{outcome.summary}", pytrace=False)
    return outcome


def _run(config: pytest.Config, experiment_path: Path) -> PeakdayRun | BaseException:
    from peakday.errors import PeakdayError

    run_dir = run_dir_for(config, experiment_path)
    try:
        result = config.hook.pytest_peakday_run_experiment(
            config=config, experiment_path=experiment_path, run_dir=run_dir
        )
    except PeakdayError as error:
        return error
    if result.run.status == "interrupted":
        raise KeyboardInterrupt  # peakday rolled back and stopped; stop the session too
    return PeakdayRun(experiment_path, run_dir, result)


@pytest.hookimpl(trylast=True)
def pytest_peakday_run_experiment(
    config: pytest.Config, experiment_path: Path, run_dir: Path
) -> Result:
    """The real run, built as `peakday run` builds it, with progress going to logging."""
    import os

    from peakday.orchestrator import run_experiment
    from peakday.platforms.factory import make_platform
    from peakday.reporting.live import LogProgress
    from peakday.reporting.writer import write_reports, write_reports_if_result
    from peakday.runconfig import RunOverrides, build_run_config

    overrides = RunOverrides(
        allow_non_local=bool(config.getoption("peakday_allow_non_local")), out_dir=run_dir
    )
    run_config = build_run_config(
        experiment_path, overrides, environ=os.environ, cwd=config.invocation_params.dir
    )
    try:
        result = run_experiment(
            run_config, make_platform, LogProgress(log.info, run_config.experiment)
        )
    except BaseException:
        write_reports_if_result(run_dir)
        raise
    write_reports(result, run_dir)
    return result


@pytest.fixture
def peakday_run(request: pytest.FixtureRequest) -> PeakdayRun:
    """The run of the experiment named by the test's @pytest.mark.peakday("path.yaml").

    Paths are relative to the rootdir, or else to the test file's folder. The run happens once
    per session per file, shared by every test that names it.
    """
    marker = request.node.get_closest_marker("peakday")
    if marker is None or not marker.args:
        raise pytest.UsageError(
            f"{request.node.nodeid}: the peakday_run fixture needs "
            f"@pytest.mark.peakday('experiments/x.yaml') on the test, its class or module."
        )
    name = str(marker.args[0])
    candidates = [request.config.rootpath / name, request.path.parent / name]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        raise pytest.UsageError(
            f"{request.node.nodeid}: @pytest.mark.peakday names {name!r}, which is not a file "
            f"under {str(request.config.rootpath)!r} or next to the test."
        )
    return run_once(request.config, path)
