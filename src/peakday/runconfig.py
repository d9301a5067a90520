"""How a run is configured: one function turns (experiment file, overrides) into a RunConfig.

`peakday run`, the pytest plugin and the bench scripts all call `build_run_config`, so an
experiment runs the same way whichever door it came in by: the platform override and its
two-yes rule for targets off this machine, the worker options, the user's own locustfile on
the external platform, where toxiproxy-server is looked for, and a fresh results folder.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from peakday.assets import STOREFRONT_LOCUSTFILE
from peakday.errors import SpecError, SpecIssue, UsageError
from peakday.experiment.catalog import resolve_experiment_path
from peakday.experiment.loader import load_experiment
from peakday.experiment.models import Experiment
from peakday.experiment.overrides import apply_worker_options, choose_platform
from peakday.processes.tools import find_binary, user_tools_dir
from peakday.results.folder import RunFolder


@dataclass(frozen=True)
class RunOverrides:
    """What the command line (or a pytest option) says over the experiment file."""

    platform: str | None = None  # --platform
    allow_non_local: bool = False  # --allow-non-local
    master_bind: str | None = None  # --master-bind HOST:PORT
    expect_workers: str | None = None  # --expect-workers N
    out_dir: Path | None = None  # --out
    pull: bool = False  # --pull: compose may pull missing images
    build: bool = False  # --build: compose may build images


@dataclass(frozen=True)
class RunConfig:
    experiment: Experiment
    run_dir: Path
    locustfile: Path
    tools_dirs: tuple[Path, ...]
    run_id: str = ""
    # alerts.rules, resolved against the experiment file; None: peakday's storefront rules.
    alert_rules: Path | None = None

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.run_dir)


def new_run_id(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def tools_dirs_for(
    experiment_path: Path, environ: Mapping[str, str], cwd: Path
) -> tuple[Path, ...]:
    """Where toxiproxy-server is looked for before PATH: $PEAKDAY_TOOLS_DIR, else the per-user
    tools folder `peakday tools install` fills; then ./.tools/bin and .tools/bin of the project
    the experiment file sits in."""
    dirs = [user_tools_dir(environ)]
    dirs.append(cwd / ".tools" / "bin")
    dirs.append(experiment_path.resolve().parent.parent / ".tools" / "bin")
    return tuple(dict.fromkeys(dirs))


def locustfile_for(experiment: Experiment, experiment_path: Path, cwd: Path) -> Path:
    """The user's locustfile (relative to the experiment file) on the external platform;
    otherwise the storefront's journeys shipped in the package (locustfiles/storefront.py of
    the repository is a link to the same file)."""
    user_locustfile = None
    if experiment.platform == "external" and experiment.external is not None:
        user_locustfile = experiment.external.locustfile
    elif experiment.platform == "compose" and experiment.compose is not None:
        user_locustfile = experiment.compose.locustfile
    if user_locustfile is not None:
        path = Path(user_locustfile)
        return path if path.is_absolute() else (cwd / experiment_path).resolve().parent / path
    return STOREFRONT_LOCUSTFILE


def needs_toxiproxy_server(experiment: Experiment) -> bool:
    """Whether the run starts toxiproxy-server itself: local always, external unless the user
    runs their own (external.toxiproxy.api); docker runs it as a container."""
    if experiment.platform == "local":
        return True
    external = experiment.external
    return (
        experiment.platform == "external"
        and external is not None
        and isinstance(external.toxiproxy, str)
    )


def check_run_inputs(
    experiment: Experiment, experiment_path: Path, locustfile: Path, tools_dirs: tuple[Path, ...]
) -> None:
    """Every file the run needs, checked before anything starts: the locustfile (SpecError,
    exit 2) and toxiproxy-server when the run starts it (EnvironmentProblem, exit 3)."""
    if not locustfile.is_file():
        external = experiment.on_user_system
        raise SpecError(
            [
                SpecIssue(
                    str(experiment_path),
                    None,
                    f"{experiment.platform}.locustfile" if external else "",
                    f"The locustfile {str(locustfile)!r} does not exist.",
                    f"Give {experiment.platform}.locustfile relative to the experiment file, "
                    "such as "
                    "'locustfile.py' ('peakday init --platform external' writes a starter)."
                    if external
                    else "The storefront's journeys ship in the package: reinstall peakday "
                    "('pip install --force-reinstall peakday').",
                )
            ]
        )
    if needs_toxiproxy_server(experiment):
        find_binary("toxiproxy-server", tools_dirs)


def apply_compose_options(
    experiment: Experiment, experiment_path: Path, overrides: RunOverrides
) -> Experiment:
    """compose.file made absolute (it is relative to the experiment file), and --pull/--build."""
    compose = experiment.compose
    if experiment.platform != "compose" or compose is None:
        return experiment
    path = Path(compose.file)
    if not path.is_absolute():
        path = experiment_path.resolve().parent / path
    update: dict[str, object] = {"file": str(path)}
    if overrides.pull:
        update["pull"] = True
    if overrides.build:
        update["build"] = True
    return experiment.model_copy(update={"compose": compose.model_copy(update=update)})


def default_run_dir(experiment: Experiment, now: datetime | None = None) -> Path:
    """results/<local time>-<name>, relative to the folder peakday runs in."""
    moment = now or datetime.now()
    return Path("results") / f"{moment.strftime('%Y%m%d-%H%M%S')}-{experiment.name}"


def build_run_config(
    experiment_path: Path,
    overrides: RunOverrides,
    *,
    environ: Mapping[str, str],
    cwd: Path,
) -> RunConfig:
    """The one way to configure a run. Raises SpecError/UsageError (exit 2) for bad input,
    before anything starts."""
    experiment_path = resolve_experiment_path(experiment_path, cwd)
    experiment = load_experiment(experiment_path)
    experiment = choose_platform(experiment, overrides.platform, overrides.allow_non_local)
    experiment = apply_worker_options(experiment, overrides.master_bind, overrides.expect_workers)
    experiment = apply_compose_options(experiment, experiment_path, overrides)
    locustfile = locustfile_for(experiment, experiment_path, cwd)
    tools_dirs = tools_dirs_for(experiment_path, environ, cwd)
    check_run_inputs(experiment, experiment_path, locustfile, tools_dirs)
    return RunConfig(
        experiment=experiment,
        run_dir=overrides.out_dir or default_run_dir(experiment),
        locustfile=locustfile,
        tools_dirs=tools_dirs,
        run_id=new_run_id(),
        alert_rules=alert_rules_for(experiment, experiment_path),
    )


def alert_rules_for(experiment: Experiment, experiment_path: Path) -> Path | None:
    """The rules file `alerts.rules` names, relative to the experiment file; it must exist."""
    if experiment.alerts is None or experiment.alerts.rules is None:
        return None
    path = Path(experiment.alerts.rules)
    path = path if path.is_absolute() else experiment_path.resolve().parent / path
    if not path.is_file():
        raise UsageError(
            f"{str(experiment_path)!r}: alerts.rules names {experiment.alerts.rules!r}, but "
            f"there is no file at {str(path)!r}. Hint: the path is relative to the experiment "
            "file; leave rules: out to use peakday's storefront rules."
        )
    return path
