"""Checks on the platform a spec asks for and on service faults (pure; used by crossref.py).

Network faults name a proxy and a toxic, service faults a service and an action; the external
platform brings its own upstreams and proxies, and targets off this machine need consent.
"""

from __future__ import annotations

from collections.abc import Iterator

from peakday.errors import SpecIssue
from peakday.experiment.hints import all_of, did_you_mean
from peakday.experiment.models import Experiment, External, Fault, ToxiproxyServer
from peakday.experiment.yaml_lines import KeyPath, Locator
from peakday.routes import route_key_problem
from peakday.topology import Topology, is_loopback_host, split_host_port

SERVICE_FAULT_EXAMPLE = "service: auth and action: kill (or stop, pause, restart)"
NETWORK_FAULT_EXAMPLE = "proxy: auth_login and toxic: latency"


def proxy_names(experiment: Experiment, topology: Topology) -> tuple[str, ...]:
    """The proxies faults may name: the user's on the external platform, else the topology's."""
    if experiment.platform == "external" and experiment.external is not None:
        return tuple(experiment.external.proxies)
    if experiment.platform == "compose" and experiment.compose is not None:
        return tuple(experiment.compose.intercept)  # proxies are named after the services
    return topology.proxy_names


def fault_kind_issues(
    fault: Fault, index: int, experiment: Experiment, locator: Locator, topology: Topology
) -> Iterator[SpecIssue]:
    """A fault is either proxy + toxic or service + action, never a mix, never half of one."""
    here = ("faults", index)
    if fault.is_behaviour_fault:  # service + behaviour
        from peakday.experiment.service_level_checks import behaviour_fault_issues

        yield from behaviour_fault_issues(fault, index, experiment, locator, topology)
        return
    network = fault.proxy is not None or fault.toxic is not None
    if network and fault.is_service_fault:
        yield locator.issue(
            here,
            f"The fault {fault.label!r} mixes a network fault (proxy/toxic) with a service "
            "fault (service/action).",
            f"Split it into two faults: one with {NETWORK_FAULT_EXAMPLE}, one with "
            f"{SERVICE_FAULT_EXAMPLE}.",
        )
        return
    if not network and not fault.is_service_fault:
        yield locator.issue(
            here,
            "This fault says neither what to break on the network nor which service to act on.",
            f"Give {NETWORK_FAULT_EXAMPLE}, or {SERVICE_FAULT_EXAMPLE}.",
        )
        return
    if network:
        for key, value in (("proxy", fault.proxy), ("toxic", fault.toxic)):
            if value is None:
                yield locator.issue(
                    here, f"A network fault needs {key!r}.", f"Give {NETWORK_FAULT_EXAMPLE}."
                )
        return
    for key, value in (("service", fault.service), ("action", fault.action)):
        if value is None:
            yield locator.issue(
                here, f"A service fault needs {key!r}.", f"Give {SERVICE_FAULT_EXAMPLE}."
            )
    for key in ("attributes", "stream", "toxicity"):
        if key in fault.model_fields_set:
            yield locator.issue(
                (*here, key),
                f"{key!r} belongs to network faults; the service fault {fault.label!r} "
                f"({fault.action} {fault.service}) does not use it.",
                f"Remove {key}.",
            )
    if experiment.platform == "external":
        yield locator.issue(
            (*here, "service"),
            f"The service fault {fault.label!r} cannot run on the external platform: peakday "
            "does not control the processes of a system you run yourself.",
            "Use a network fault on one of your proxies, such as toxic: down.",
        )
    elif experiment.platform == "compose" and experiment.compose is not None:
        pass  # the project's services: compose_checks.project_issues, against the real project
    elif fault.service is not None and fault.service not in topology.service_names:
        yield locator.issue(
            (*here, "service"),
            f"Unknown service {fault.service!r}.",
            f"{did_you_mean(fault.service, topology.service_names)}"
            f"Known services: {all_of(topology.service_names)}.",
        )


def platform_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    """`external:` goes with `platform: external` and must name addresses peakday may reach."""
    from peakday.experiment.compose_checks import compose_issues

    yield from compose_issues(experiment, locator)
    external = experiment.external
    if experiment.platform != "external":
        if external is not None:
            yield locator.issue(
                ("external",),
                f"'external' describes your own system, but the platform is "
                f"{experiment.platform!r}, which runs the storefront itself.",
                "Set platform: external, or remove the 'external' section.",
            )
        return
    if external is None:
        yield locator.issue(
            ("platform",),
            "The external platform needs an 'external' section saying where your services "
            "answer and which proxies to put in front of them.",
            "Add external: {upstreams: {shop: '127.0.0.1:8080'}, proxies: {shop_front: shop}, "
            "locustfile: locustfile.py, host: shop_front}.",
        )
        return
    for name, address in external.upstreams.items():
        where = ("external", "upstreams", name)
        try:
            host, _ = split_host_port(address)
        except ValueError:
            yield locator.issue(
                where,
                f"The upstream {name!r} must be host:port, got {address!r}.",
                "Write it such as '127.0.0.1:8080'.",
            )
            continue
        if not is_loopback_host(host) and not external.allow_non_local_targets:
            yield locator.issue(
                where,
                f"The upstream {name!r} at {address!r} is not on this machine; peakday sends "
                "load and faults only to loopback addresses unless told otherwise.",
                "If you own that system and mean to load it, set "
                "external.allow_non_local_targets: true and pass --allow-non-local to "
                "'peakday run'.",
            )
    yield from _proxy_issues(external, locator)
    yield from _toxiproxy_issues(external, locator)
    yield from _user_class_issues(experiment, locator)
    yield from _route_issues(experiment, locator)
    if "://" not in external.host and external.host not in external.proxies:
        yield locator.issue(
            ("external", "host"),
            f"Locust's host {external.host!r} is neither a URL nor one of the proxies.",
            f"{did_you_mean(external.host, tuple(external.proxies))}Name a proxy "
            f"({all_of(tuple(external.proxies))}) so load goes through Toxiproxy.",
        )


def _proxy_path(locator: Locator, proxy: str, key: str) -> KeyPath:
    """`external.proxies.NAME.KEY` where the long form spells KEY, else the proxy's own path."""
    long = ("external", "proxies", proxy, key)
    return long if long in locator.lines else long[:-1]


def _proxy_issues(external: External, locator: Locator) -> Iterator[SpecIssue]:
    """Each proxy names a known upstream (or adopts an existing proxy) and a usable listen."""
    upstream_names = tuple(external.upstreams)
    own_server = isinstance(external.toxiproxy, ToxiproxyServer)
    listens: dict[tuple[str, int], str] = {}
    for proxy, entry in external.proxies.items():
        upstream = entry.upstream
        if upstream is None and not entry.existing:
            yield locator.issue(
                ("external", "proxies", proxy),
                f"The proxy {proxy!r} names no upstream.",
                f"Write {proxy}: {{upstream: {upstream_names[0]}}} (an upstream name), or "
                "existing: true to adopt a proxy your own Toxiproxy server already has.",
            )
        elif upstream is not None and upstream not in external.upstreams:
            yield locator.issue(
                _proxy_path(locator, proxy, "upstream"),
                f"The proxy {proxy!r} points at unknown upstream {upstream!r}.",
                f"{did_you_mean(upstream, upstream_names)}"
                f"Known upstreams: {all_of(upstream_names)}.",
            )
        if entry.existing and not own_server:
            yield locator.issue(
                _proxy_path(locator, proxy, "existing"),
                f"The proxy {proxy!r} is to be adopted (existing: true), but the Toxiproxy "
                "peakday starts for the run holds no proxy before the run.",
                "Give the server that has it, such as toxiproxy: {api: "
                "'http://127.0.0.1:8474'}, or remove existing: true so peakday creates it.",
            )
        if entry.listen is None:
            continue
        where = _proxy_path(locator, proxy, "listen")
        if entry.existing:
            yield locator.issue(
                where,
                f"The proxy {proxy!r} already exists (existing: true), so it listens where it "
                "already does; peakday does not move it.",
                "Remove listen, or remove existing: true so peakday creates the proxy there.",
            )
            continue
        try:
            host, port = split_host_port(entry.listen)
        except ValueError:
            yield locator.issue(
                where,
                f"The proxy {proxy!r} must listen on host:port with a port from 1 to 65535, "
                f"got {entry.listen!r}.",
                "Write it such as listen: '127.0.0.1:16379'.",
            )
            continue
        if not is_loopback_host(host) and not external.allow_non_local_targets:
            yield locator.issue(
                where,
                f"The proxy {proxy!r} would listen on {entry.listen!r}, which other machines "
                "can reach; peakday listens on loopback addresses only unless told otherwise.",
                "Listen on 127.0.0.1, or, if you mean it, set "
                "external.allow_non_local_targets: true and pass --allow-non-local to "
                "'peakday run'.",
            )
        if (host, port) in listens:
            yield locator.issue(
                where,
                f"The proxies {listens[(host, port)]!r} and {proxy!r} would both listen on "
                f"{entry.listen!r}.",
                "Give each proxy its own port.",
            )
        listens.setdefault((host, port), proxy)
        if upstream is not None and external.upstreams.get(upstream) == entry.listen:
            yield locator.issue(
                where,
                f"The proxy {proxy!r} would listen on its own upstream's address "
                f"{entry.listen!r}, so it would forward to itself.",
                "Listen on another port, and point your app at that port.",
            )


def _toxiproxy_issues(external: External, locator: Locator) -> Iterator[SpecIssue]:
    """`toxiproxy: local` or `{api: URL}`; docker is refused here rather than later in a run."""
    server = external.toxiproxy
    if server == "docker":
        yield locator.issue(
            ("external", "toxiproxy"),
            "external.toxiproxy: docker is not supported: on the external platform peakday "
            "starts toxiproxy-server as a process, or drives a Toxiproxy server you run.",
            "Use toxiproxy: local, or run Toxiproxy in a container yourself (such as in your "
            "compose stack) and give toxiproxy: {api: 'http://127.0.0.1:8474'}.",
        )
    elif (
        isinstance(server, ToxiproxyServer)
        and not is_loopback_host(server.host)
        and not external.allow_non_local_targets
    ):
        yield locator.issue(
            ("external", "toxiproxy", "api"),
            f"The Toxiproxy server at {server.api!r} is not on this machine; peakday sends "
            "faults only to loopback addresses unless told otherwise.",
            "If you own that server, set external.allow_non_local_targets: true and pass "
            "--allow-non-local to 'peakday run'.",
        )


def _user_class_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    """On the external platform the user's Locust classes run, so storefront journeys make no
    sense; `external.user_classes` may pick and weigh the classes by their Python names."""
    external = experiment.external
    if external is None:
        return
    if "journeys" in experiment.load.model_fields_set:
        yield locator.issue(
            ("load", "journeys"),
            "load.journeys weighs the storefront's journeys (shopper, merchant, pos), but the "
            "external platform runs the user classes of your own locustfile "
            f"({external.locustfile!r}).",
            "Remove load.journeys to run every class with the locustfile's own weights, or "
            "weigh your classes under external.user_classes, such as {Browser: 3, Buyer: 1}.",
        )
    classes = external.user_classes
    for name, weight in classes.items():
        here = ("external", "user_classes", name)
        if not name.isidentifier():
            yield locator.issue(
                here,
                f"{name!r} cannot be a Locust user class: class names are Python identifiers.",
                "Use the class's name as written in the locustfile, such as Browser.",
            )
        if weight < 0:
            yield locator.issue(
                here,
                f"The weight of user class {name!r} cannot be negative, got {weight:g}.",
                "Use 0 to leave a class out.",
            )
    if classes and all(weight <= 0 for weight in classes.values()):
        yield locator.issue(
            ("external", "user_classes"),
            "Every user class has weight 0, so no user would run.",
            "Give at least one class a weight above 0, or remove user_classes to use the "
            "locustfile's own weights.",
        )


def _route_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    """`external.routes` maps request names or paths to proxies; the Locust side checks the
    same keys (peakday.routes.route_key_problem), so what validates also routes."""
    external = experiment.external
    if external is None:
        return
    proxies = tuple(external.proxies)
    for key, proxy in external.routes.items():
        here = ("external", "routes", key)
        problem = route_key_problem(key)
        if problem is not None:
            message, hint = problem
            yield locator.issue(here, message, hint)
        if proxy not in external.proxies:
            yield locator.issue(
                here,
                f"The route {key!r} goes through unknown proxy {proxy!r}.",
                f"{did_you_mean(proxy, proxies)}Routes name proxies under external.proxies: "
                f"{all_of(proxies)}.",
            )
