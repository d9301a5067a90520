"""The user's own system: peakday starts only Toxiproxy, in front of services the user runs.

Targets off this machine need two yeses: `external.allow_non_local_targets: true` in the spec and
`--allow-non-local` on the command line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from peakday.errors import ServiceStartError, UsageError
from peakday.experiment.models import Experiment, External
from peakday.faults.toxiproxy import ToxiproxyApi, ToxiproxyPythonClient
from peakday.orchestrator import RunConfig
from peakday.platforms.base import Endpoints
from peakday.processes.children import ManagedProcess, ProcessGroup, free_loopback_ports
from peakday.processes.tools import find_binary
from peakday.processes.waiting import http_ok, poll_until, tail
from peakday.topology import is_loopback_host, split_host_port

HEALTH_TIMEOUT_S = 20.0


def non_local_targets(external: External) -> list[str]:
    """The upstream addresses that leave this machine, as 'name (host:port)'."""
    found = []
    for name, address in external.upstreams.items():
        with contextlib.suppress(ValueError):
            if not is_loopback_host(split_host_port(address)[0]):
                found.append(f"{name} ({address})")
    if "://" in external.host:
        from urllib.parse import urlsplit

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


def locustfile_for(experiment: Experiment, experiment_path: Path) -> Path | None:
    """The user's locustfile (relative to the experiment file) on the external platform."""
    if experiment.platform != "external" or experiment.external is None:
        return None
    path = Path(experiment.external.locustfile)
    return path if path.is_absolute() else experiment_path.resolve().parent / path


class ExternalPlatform:
    name = "external"

    def __init__(
        self,
        external: External,
        run_dir: Path,
        tools_dirs: Sequence[Path],
        processes: ProcessGroup,
    ) -> None:
        self._external = external
        self._run_dir = run_dir
        self._tools_dirs = tools_dirs
        self._processes = processes
        self._toxiproxy: ToxiproxyApi | None = None

    def toxiproxy(self) -> ToxiproxyApi:
        if self._toxiproxy is None:
            raise RuntimeError("the platform is not started")
        return self._toxiproxy

    def services(self) -> None:
        return None  # the user's processes are not peakday's to kill

    def resource_probe(self) -> None:
        return None

    def load_workers(self) -> None:
        return None  # worker processes on this machine

    def start(self) -> Endpoints:
        if self._external.toxiproxy == "docker":
            raise UsageError(
                "external.toxiproxy: docker is not available yet. Hint: use toxiproxy: local "
                "(toxiproxy-server from 'make tools')."
            )
        server = find_binary("toxiproxy-server", self._tools_dirs)
        api_port, *listen_ports = free_loopback_ports(1 + len(self._external.proxies))
        child = self._processes.start(
            "toxiproxy",
            [server, "-host", "127.0.0.1", "-port", str(api_port)],
            self._run_dir / "logs" / "toxiproxy.log",
        )
        self._wait_healthy(child, f"http://127.0.0.1:{api_port}/version")
        api = ToxiproxyPythonClient("127.0.0.1", api_port)
        self._toxiproxy = api
        proxies: dict[str, str] = {}
        for (name, upstream), port in zip(
            self._external.proxies.items(), listen_ports, strict=True
        ):
            proxies[name] = api.create_proxy(
                name, f"127.0.0.1:{port}", self._external.upstreams[upstream]
            )
        host = self._external.host
        locust_host = host if "://" in host else f"http://{proxies[host]}"
        return Endpoints(
            toxiproxy_api=f"127.0.0.1:{api_port}",
            services={name: f"http://{address}" for name, address in proxies.items()},
            proxies=proxies,
            locust_host=locust_host,
        )

    def _wait_healthy(self, child: ManagedProcess, url: str) -> None:
        if not poll_until(
            http_ok(url), timeout_s=HEALTH_TIMEOUT_S, still_worth_waiting=child.alive
        ):
            state = "exited" if not child.alive() else "running but not healthy"
            raise ServiceStartError(
                f"toxiproxy-server did not answer 200 at {url} within {HEALTH_TIMEOUT_S:.0f} s "
                f"(process {state}). Last lines of {child.log_path}:\n"
                f"{tail(str(child.log_path))}\nHint: the log above says why."
            )

    def stop(self) -> None:
        if self._toxiproxy is not None:
            with contextlib.suppress(Exception):
                self._toxiproxy.reset()
        self._processes.stop_all()


def make_external_platform(config: RunConfig, processes: ProcessGroup) -> ExternalPlatform:
    external = config.experiment.external
    if external is None:
        raise UsageError("The external platform needs an 'external' section in the experiment.")
    return ExternalPlatform(external, config.run_dir, config.tools_dirs, processes)
