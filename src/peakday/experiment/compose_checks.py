"""Checks on `platform: compose` and its `compose:` section (pure).

`compose_issues` checks the section alone; `project_issues` checks it against the project as
the real Compose CLI reads it (experiment/compose_project.py), which the loader asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from peakday.errors import SpecIssue
from peakday.experiment.compose_project import ComposeProject, ComposeUnreadable
from peakday.experiment.hints import all_of, did_you_mean
from peakday.experiment.models import Compose, Experiment
from peakday.experiment.yaml_lines import Locator
from peakday.routes import route_key_problem
from peakday.topology import split_host_port

# The Toxiproxy service peakday adds to the project (its override file names it).
TOXIPROXY_SERVICE = "peakday-toxiproxy"


def compose_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    """`compose:` goes with `platform: compose`; intercepts, host and routes are well formed."""
    compose = experiment.compose
    if experiment.platform != "compose":
        if compose is not None:
            yield locator.issue(
                ("compose",),
                f"'compose' describes your own Compose project, but the platform is "
                f"{experiment.platform!r}.",
                "Set platform: compose (or pass --platform compose), or remove 'compose'.",
            )
        return
    if compose is None:
        return  # the storefront, from the repository's compose/docker-compose.yml
    ports: dict[int, str] = {}
    for service, port in compose.intercept.items():
        here = ("compose", "intercept", service)
        if not 1 <= port <= 65_535:
            yield locator.issue(
                here,
                f"The intercepted service {service!r} must listen on a port from 1 to 65535, "
                f"got {port}.",
                "Give the port the service listens on inside the project, such as redis: 6379.",
            )
        elif port in ports:
            yield locator.issue(
                here,
                f"The intercepted services {ports[port]!r} and {service!r} both use port {port}; "
                "one Toxiproxy container listens for both, so each needs its own port.",
                "Intercept one of them per experiment.",
            )
        ports.setdefault(port, service)
        if service == TOXIPROXY_SERVICE:
            yield locator.issue(here, f"{service!r} is the service peakday adds.", "Rename it.")
    if "journeys" in experiment.load.model_fields_set:
        yield locator.issue(
            ("load", "journeys"),
            "load.journeys weighs the storefront's journeys, but the compose platform runs the "
            f"user classes of your own locustfile ({compose.locustfile!r}).",
            "Remove load.journeys, or weigh your classes under compose.user_classes.",
        )
    yield from _host_issues(compose, locator)
    for key, proxy in compose.routes.items():
        here = ("compose", "routes", key)
        problem = route_key_problem(key)
        if problem is not None:
            yield locator.issue(here, *problem)
        if proxy not in compose.intercept:
            names = tuple(compose.intercept)
            yield locator.issue(
                here,
                f"The route {key!r} goes through unknown proxy {proxy!r}.",
                f"{did_you_mean(proxy, names)}Proxies are named after the intercepted "
                f"services: {all_of(names)}.",
            )


def _host_issues(compose: Compose, locator: Locator) -> Iterator[SpecIssue]:
    if "://" in compose.host:
        return
    try:
        split_host_port(compose.host)
    except ValueError:
        yield locator.issue(
            ("compose", "host"),
            f"Locust's host must be 'service:port' (the port the service listens on in the "
            f"project; peakday reads where it is published) or a URL, got {compose.host!r}.",
            "Write host: 'web:8080', or host: 'http://127.0.0.1:8080'.",
        )


def host_service(compose: Compose) -> tuple[str, int] | None:
    """('web', 8080) for host: 'web:8080'; None for a URL."""
    if "://" in compose.host:
        return None
    return split_host_port(compose.host)


def project_issues(
    experiment: Experiment, locator: Locator, project: ComposeProject
) -> Iterator[SpecIssue]:
    """The services the experiment names exist in the project and can be intercepted."""
    compose = experiment.compose
    if compose is None:
        return
    names = project.service_names
    known = f"Services in project {project.name!r}: {all_of(names)}."
    for service in compose.intercept:
        here = ("compose", "intercept", service)
        found = project.services.get(service)
        if found is None:
            yield locator.issue(
                here,
                f"The project has no service {service!r} to intercept.",
                f"{did_you_mean(service, names)}{known}",
            )
        elif found.network_mode is not None:
            yield locator.issue(
                here,
                f"The service {service!r} uses network_mode: {found.network_mode}, so it has no "
                "network alias that Toxiproxy could take over.",
                "Intercept a service on the project's networks.",
            )
    try:
        target = host_service(compose)
    except ValueError:
        target = None  # compose_issues reports it
    if target is not None and target[0] not in project.services:
        yield locator.issue(
            ("compose", "host"),
            f"Locust's host names the service {target[0]!r}, which the project does not have.",
            f"{did_you_mean(target[0], names)}{known}",
        )
    for index, fault in enumerate(experiment.faults):
        named = fault.service
        if fault.is_service_fault and named is not None and named not in project.services:
            yield locator.issue(
                ("faults", index, "service"),
                f"Unknown service {named!r} in project {project.name!r}.",
                f"{did_you_mean(named, names)}{known}",
            )


def compose_file_path(compose: Compose, experiment_file: Path) -> Path:
    """compose.file, relative to the experiment file's folder."""
    path = Path(compose.file)
    return path if path.is_absolute() else experiment_file.resolve().parent / path


def check_project(
    experiment: Experiment,
    locator: Locator,
    experiment_file: Path,
    read: Callable[[Path, str | None], ComposeProject],
) -> list[SpecIssue]:
    """The compose file exists and the real CLI reads it; what it names is in the project."""
    compose = experiment.compose
    if experiment.platform != "compose" or compose is None:
        return []
    path = compose_file_path(compose, experiment_file)
    if not path.is_file():
        return [
            locator.issue(
                ("compose", "file"),
                f"The compose file {str(path)!r} does not exist.",
                "compose.file is relative to the experiment file's folder; point it at your "
                "project's compose.yaml.",
            )
        ]
    try:
        project = read(path, compose.project)
    except ComposeUnreadable as error:
        return [
            locator.issue(
                ("compose", "file"),
                f"Compose cannot read {str(path)!r}: {error}",
                "Run 'docker compose -f FILE config' to see the whole message.",
            )
        ]
    return list(project_issues(experiment, locator, project))
