"""The command line's say over an experiment (pure): `--platform` with the two-yes rule for
targets off this machine, and `--master-bind HOST:PORT --expect-workers N` over the experiment's
load.master_bind and load.external_workers. Each is checked, then applied."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urlsplit

from peakday.errors import UsageError
from peakday.experiment.models import Experiment, External, ToxiproxyServer
from peakday.topology import is_loopback_host, split_host_port

_HOST_PORT = re.compile(r"^([^\s:,]+):(\d{1,5})$")
_BIND_HINT = (
    "Hint: give the address and port the Locust master listens on, such as "
    "'--master-bind 0.0.0.0:5557' for workers on other machines (open that port to them only) "
    "or '--master-bind 127.0.0.1:5557' for workers on this one."
)


def parse_master_bind(value: str) -> tuple[str, int]:
    """'0.0.0.0:5557' -> ('0.0.0.0', 5557); anything else is a UsageError naming the option."""
    match = _HOST_PORT.match(value.strip())
    if match is None or not 1 <= int(match.group(2)) <= 65_535:
        raise UsageError(
            f"--master-bind expects HOST:PORT with a port from 1 to 65535, got {value!r}. "
            + _BIND_HINT
        )
    return match.group(1), int(match.group(2))


def parse_expect_workers(value: str) -> int:
    if not value.strip().isdigit():
        raise UsageError(
            f"--expect-workers expects how many workers will connect from elsewhere, a whole "
            f"number of 0 or more, got {value!r}. Hint: '--expect-workers 4' makes the master "
            "wait for four 'locust --worker' processes before the load starts."
        )
    return int(value)


def apply_worker_options(
    experiment: Experiment, master_bind: str | None, expect_workers: str | None
) -> Experiment:
    """The experiment with the command line's master address and external worker count."""
    if master_bind is None and expect_workers is None:
        return experiment
    load = experiment.load
    bind = load.master_bind
    if master_bind is not None:
        host, port = parse_master_bind(master_bind)
        bind = f"{host}:{port}"
    external = load.external_workers
    if expect_workers is not None:
        external = parse_expect_workers(expect_workers)
        if bind is None:
            raise UsageError(
                f"--expect-workers {expect_workers} needs an address the workers can connect "
                f"to, and the experiment {experiment.name!r} sets no load.master_bind. "
                + _BIND_HINT
            )
    if load.workers + external == 0:
        raise UsageError(
            f"A Locust master on {bind} would wait for no worker: the experiment "
            f"{experiment.name!r} has load.workers: 0 and no workers are expected from elsewhere. "
            "Hint: add '--expect-workers N' for N workers started elsewhere, or set "
            "load.workers in the experiment."
        )
    updated = load.model_copy(update={"master_bind": bind, "external_workers": external})
    return experiment.model_copy(update={"load": updated})


def non_local_targets(external: External) -> list[str]:
    """The addresses that leave this machine, as 'name (host:port)': upstreams, proxies that
    listen where other machines can reach them, and the user's own Toxiproxy server."""
    found = []
    for name, address in external.upstreams.items():
        with contextlib.suppress(ValueError):
            if not is_loopback_host(split_host_port(address)[0]):
                found.append(f"{name} ({address})")
    for name, entry in external.proxies.items():
        with contextlib.suppress(ValueError):
            if entry.listen is not None and not is_loopback_host(split_host_port(entry.listen)[0]):
                found.append(f"proxy {name} listening on {entry.listen}")
    server = external.toxiproxy
    if isinstance(server, ToxiproxyServer) and not is_loopback_host(server.host):
        found.append(f"toxiproxy ({server.api})")
    if "://" in external.host:
        host = urlsplit(external.host).hostname or ""
        if not is_loopback_host(host):
            found.append(f"host ({external.host})")
    return found


def choose_platform(
    experiment: Experiment, override: str | None, allow_non_local: bool
) -> Experiment:
    """The experiment with `--platform` applied, refusing non-local targets without consent."""
    if override is not None and override != experiment.platform:
        experiment = experiment.model_copy(update={"platform": override})
    if experiment.platform != "external":
        return experiment
    external = experiment.external
    if external is None:
        raise UsageError(
            f"--platform external needs an 'external' section in the experiment "
            f"{experiment.name!r} (upstreams, proxies, locustfile, host). Hint: see "
            "docs/external.md for an example."
        )
    outside = non_local_targets(external)
    if outside and not (external.allow_non_local_targets and allow_non_local):
        missing = []
        if not external.allow_non_local_targets:
            missing.append("external.allow_non_local_targets: true in the experiment")
        if not allow_non_local:
            missing.append("--allow-non-local on the command line")
        raise UsageError(
            f"The experiment {experiment.name!r} targets addresses off this machine: "
            f"{', '.join(outside)}. peakday sends load and faults only to loopback addresses "
            f"unless both the spec and the command line allow more. Hint: if you own that "
            f"system, add {' and '.join(missing)}."
        )
    return experiment
