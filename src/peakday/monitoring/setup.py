"""Getting a run's Prometheus ready before any load: start peakday's own server or reach the
user's, then check every PromQL query against it, so a bad query stops the run (exit 2) with
Prometheus's own words before a single request is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from peakday.errors import EnvironmentProblem, UsageError
from peakday.experiment.models import Experiment
from peakday.monitoring.api import PrometheusApi, QueryError, QueryShapeError
from peakday.monitoring.records import server_rows
from peakday.monitoring.sampler import ServerSampler
from peakday.monitoring.server import PrometheusServer, start_prometheus
from peakday.processes.children import ProcessGroup
from peakday.results.eventlog import read_jsonl
from peakday.results.folder import RunFolder
from peakday.results.model import TimelineRow


@dataclass(frozen=True)
class Monitoring:
    url: str
    api: PrometheusApi
    started_here: bool


def prometheus_url(
    experiment: Experiment,
    processes: ProcessGroup,
    folder: RunFolder,
    services: Mapping[str, str],
    tools_dirs: Sequence[Path],
    rules: Path | None,
    server: PrometheusServer | None = None,
) -> tuple[str, bool]:
    """The base URL of the run's Prometheus, and whether peakday started it (through `server`
    where the platform runs it, else as a child process)."""
    choice = experiment.monitoring
    if choice is None:
        raise ValueError("the experiment has no monitoring")
    if choice == "prometheus" and server is not None:
        return server.start(folder, rules), True
    if choice == "prometheus":
        _child, url = start_prometheus(processes, folder, services, tools_dirs, rules)
        return url, True
    return choice.prometheus, False


def check_queries(experiment: Experiment, api: PrometheusApi, url: str) -> None:
    """Ask Prometheus to evaluate every query once; UsageError (exit 2) for a refused one."""
    entries = [("SLO", s) for s in experiment.slos] + [
        ("stop condition", c) for c in experiment.stop_conditions
    ]
    for kind, entry in entries:
        if entry.source != "prometheus" or entry.query is None:
            continue
        try:
            api.value(entry.query)
        except QueryError as exc:
            raise UsageError(
                f"Prometheus at {url} refused the PromQL query of the {kind} {entry.name!r}: "
                f"{entry.query!r}: {exc}. Nothing was started against the system. Hint: try the "
                "query in Prometheus's expression browser; it must give one value (wrap a vector "
                "in sum(...) or max(...))."
            ) from exc
        except QueryShapeError as exc:
            raise UsageError(
                f"The PromQL query of the {kind} {entry.name!r}, {entry.query!r}: {exc}. Hint: "
                "aggregate it to one value, such as sum(...) or max(...)."
            ) from exc
        except Exception as exc:
            raise EnvironmentProblem(
                f"Prometheus at {url} did not answer the query of the {kind} {entry.name!r}: "
                f"{type(exc).__name__}: {exc}. Hint: check that the server is up and reachable."
            ) from exc


def ready_monitoring(
    experiment: Experiment,
    processes: ProcessGroup,
    folder: RunFolder,
    services: Mapping[str, str],
    tools_dirs: Sequence[Path],
    rules: Path | None,
    make_api: Callable[[str], PrometheusApi],
    server: PrometheusServer | None = None,
) -> Monitoring:
    url, started_here = prometheus_url(
        experiment, processes, folder, services, tools_dirs, rules, server
    )
    api = make_api(url)
    check_queries(experiment, api, url)
    if experiment.alerts is not None:
        try:
            api.alerts()
        except Exception as exc:
            raise EnvironmentProblem(
                f"Prometheus at {url} did not answer GET /api/v1/alerts: "
                f"{type(exc).__name__}: {exc}. Hint: check that the server is up and reachable."
            ) from exc
    return Monitoring(url=url, api=api, started_here=started_here)


def server_sampler(
    experiment: Experiment, monitoring: Monitoring, folder: RunFolder, clock: Callable[[], float]
) -> ServerSampler:
    """The sampler writing prometheus.jsonl for this run (begun once the load has started)."""
    return ServerSampler(
        monitoring.api,
        folder.server_series,
        experiment.server_series,
        experiment.load.duration,
        read_alerts=experiment.alerts is not None,
        clock=clock,
    )


def live_server_rows(folder: RunFolder) -> tuple[TimelineRow, ...]:
    """The server-side rows read so far, for the live guard (stop conditions, baseline)."""
    return server_rows(read_jsonl(folder.server_series))
