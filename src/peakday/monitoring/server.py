"""The Prometheus server peakday starts (`monitoring: prometheus`, local platform): Debian's
`prometheus` binary as a child process on a free loopback port, its config, rules and data in
the run folder, scraping every storefront service each second. It is stopped with the other
children, and `peakday clean` finds it in pids.json after a SIGKILL.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Final, Protocol
from urllib.parse import urlsplit

import yaml

from peakday.errors import EnvironmentProblem
from peakday.processes.children import ManagedProcess, ProcessGroup, free_loopback_ports
from peakday.processes.waiting import http_ok, poll_until, tail
from peakday.results.folder import RunFolder

SCRAPE_INTERVAL_S: Final = 1
READY_TIMEOUT_S: Final = 30.0
RULES_FILE: Final = "rules.yml"
INSTALL_HINT: Final = (
    "Hint: install Debian's package (`apt-get install prometheus`, then stop the system service "
    "it may start), or put a prometheus binary in .tools/bin."
)


def storefront_rules() -> str:
    """The alerting rules peakday ships for its storefront (monitoring/rules/storefront.yml)."""
    return (resources.files("peakday.monitoring") / "rules" / "storefront.yml").read_text("utf-8")


def prometheus_binary(tools_dirs: Sequence[Path]) -> str:
    """The project tools folders first, then PATH (Debian installs /usr/bin/prometheus)."""
    for folder in tools_dirs:
        candidate = folder / "prometheus"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("prometheus")
    if found is None:
        searched = ", ".join(str(d) for d in tools_dirs) or "(none)"
        raise EnvironmentProblem(
            f"monitoring: prometheus needs the 'prometheus' binary, found neither in the project "
            f"tools folder ({searched}) nor on PATH. {INSTALL_HINT}"
        )
    return found


def prometheus_config(
    targets: Mapping[str, str], rule_files: Sequence[str], interval_s: int = SCRAPE_INTERVAL_S
) -> str:
    """prometheus.yml scraping each `service -> http://host:port` at /metrics (pure)."""
    scrape_configs = [
        {
            "job_name": service,
            "scrape_interval": f"{interval_s}s",
            "scrape_timeout": f"{int(interval_s * 900)}ms",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [urlsplit(url).netloc], "labels": {"app": service}}],
        }
        for service, url in sorted(targets.items())
    ]
    config = {
        "global": {
            "scrape_interval": f"{interval_s}s",
            "evaluation_interval": f"{interval_s}s",
        },
        "rule_files": list(rule_files),
        "scrape_configs": scrape_configs,
    }
    return yaml.safe_dump(config, sort_keys=False)


class PrometheusServer(Protocol):
    """Who starts `monitoring: prometheus` where it is not a child process on this machine (the
    Docker platform runs it as a container on the run's network)."""

    def start(self, folder: RunFolder, rules: Path | None) -> str:
        """Start the server scraping the storefront, wait until it is ready; its base URL as
        seen from this machine."""
        ...


def write_prometheus_home(
    folder: RunFolder, targets: Mapping[str, str], rules: Path | None, rules_dir: str | None = None
) -> Path:
    """prometheus.yml and rules.yml in the run folder's prometheus/; the config names the rules
    file inside `rules_dir` (where a container sees that folder), else at its path here."""
    home = folder.prometheus
    home.mkdir(parents=True, exist_ok=True)
    rules_path = home / RULES_FILE
    if rules is not None:
        shutil.copyfile(rules, rules_path)
    else:
        rules_path.write_text(storefront_rules(), encoding="utf-8")
    named = f"{rules_dir}/{RULES_FILE}" if rules_dir is not None else str(rules_path.resolve())
    config = home / "prometheus.yml"
    config.write_text(prometheus_config(targets, [named]), encoding="utf-8")
    return config


def start_prometheus(
    processes: ProcessGroup,
    folder: RunFolder,
    targets: Mapping[str, str],
    tools_dirs: Sequence[Path],
    rules: Path | None,
) -> tuple[ManagedProcess, str]:
    """Start Prometheus and wait until it is ready; (its process, its base URL)."""
    binary = prometheus_binary(tools_dirs)
    home = folder.prometheus
    config = write_prometheus_home(folder, targets, rules)
    (home / "data").mkdir(parents=True, exist_ok=True)
    (port,) = free_loopback_ports(1)
    child = processes.start(
        "prometheus",
        [
            binary,
            f"--config.file={config.resolve()}",
            f"--storage.tsdb.path={(home / 'data').resolve()}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1d",
            "--log.level=warn",
        ],
        folder.log("prometheus"),
    )
    url = f"http://127.0.0.1:{port}"
    if not poll_until(
        http_ok(f"{url}/-/ready"), timeout_s=READY_TIMEOUT_S, still_worth_waiting=child.alive
    ):
        state = "exited" if not child.alive() else "running but not ready"
        raise EnvironmentProblem(
            f"Prometheus did not answer 200 at {url}/-/ready within {READY_TIMEOUT_S:.0f} s "
            f"(process {state}). Last lines of {child.log_path}:\n{tail(str(child.log_path))}\n"
            "Hint: a bad rules file or a taken port; the log above says which."
        )
    return child, url
