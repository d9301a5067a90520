"""`monitoring: prometheus` on the Docker platform: Debian's prometheus binary in the locally built
image (`peakday/prometheus:<version>`), a container on the run's network labelled like the
others, scraping each storefront service by its DNS name every second. Its config and rules are
the run folder's prometheus/ (mounted read-only); its data stays in the container, which the
platform's stop() and `peakday clean` remove. Its API is published on 127.0.0.1 only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from peakday.errors import EnvironmentProblem
from peakday.monitoring.server import READY_TIMEOUT_S, write_prometheus_home
from peakday.platforms.docker_client import ContainerEngine, ContainerSpec
from peakday.platforms.docker_names import SERVICE_LABEL, container_name
from peakday.processes.children import free_loopback_ports
from peakday.processes.waiting import http_ok, poll_until
from peakday.results.folder import RunFolder
from peakday.topology import Topology

PROMETHEUS_PORT: Final = 9090
CONFIG_DIR: Final = "/etc/peakday-prometheus"
DATA_DIR: Final = "/tmp/prometheus-data"


def scrape_targets(topology: Topology) -> dict[str, str]:
    """Each storefront service as the Prometheus container reaches it: DNS name and port."""
    return {s.name: f"http://{s.name}:{s.default_port}" for s in topology.services}


def prometheus_spec(
    *,
    run_id: str,
    image: str,
    network: str,
    labels: Mapping[str, str],
    home: Path,
    host_port: int,
) -> ContainerSpec:
    """The Prometheus container of a run (pure)."""
    return ContainerSpec(
        name=container_name(run_id, "prometheus"),
        image=image,
        network=network,
        labels={**labels, SERVICE_LABEL: "prometheus"},
        command=(
            "/usr/local/bin/prometheus",
            f"--config.file={CONFIG_DIR}/prometheus.yml",
            f"--storage.tsdb.path={DATA_DIR}",
            f"--web.listen-address=0.0.0.0:{PROMETHEUS_PORT}",
            "--storage.tsdb.retention.time=1d",
            "--log.level=warn",
        ),
        ports={PROMETHEUS_PORT: host_port},
        read_only_binds={str(home.resolve()): CONFIG_DIR},
    )


class DockerPrometheus:
    """A PrometheusServer for one Docker run; `run_container` records the container for the
    platform's stop() before creating it."""

    def __init__(
        self,
        engine: ContainerEngine,
        topology: Topology,
        *,
        run_id: str,
        image: str,
        network: str,
        labels: Mapping[str, str],
        run_container: Callable[[ContainerSpec], None],
        ready_timeout_s: float = READY_TIMEOUT_S,
    ) -> None:
        self._engine = engine
        self._topology = topology
        self._run_id = run_id
        self._image = image
        self._network = network
        self._labels = dict(labels)
        self._run_container = run_container
        self._ready_timeout_s = ready_timeout_s

    def start(self, folder: RunFolder, rules: Path | None) -> str:
        write_prometheus_home(folder, scrape_targets(self._topology), rules, CONFIG_DIR)
        folder.prometheus.chmod(0o755)  # readable by the container whatever the umask
        (port,) = free_loopback_ports(1)
        spec = prometheus_spec(
            run_id=self._run_id,
            image=self._image,
            network=self._network,
            labels=self._labels,
            home=folder.prometheus,
            host_port=port,
        )
        self._run_container(spec)
        url = f"http://127.0.0.1:{port}"

        def running() -> bool:
            return self._engine.status(spec.name) == "running"

        if not poll_until(
            http_ok(f"{url}/-/ready"),
            timeout_s=self._ready_timeout_s,
            interval_s=0.2,
            still_worth_waiting=running,
        ):
            raise EnvironmentProblem(
                f"The Prometheus container {spec.name!r} did not answer 200 at {url}/-/ready "
                f"within {self._ready_timeout_s:.0f} s (container status: "
                f"{self._engine.status(spec.name)}). Last lines of its log:\n"
                f"{self._engine.logs_tail(spec.name, 30)}\n"
                "Hint: a bad rules file (the log says which line), or an image without the "
                "binary: rebuild it with 'peakday images build --offline'."
            )
        return url
