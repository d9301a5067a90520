"""A run folder and every file name in it: the one place that spells them.

result.json       the scored result (written atomically, after the run or by `assemble`)
events.jsonl      typed events, one a line, as they happen
metrics.jsonl     per-second records from the Locust side, as they settle
resources.jsonl   CPU and memory per service each second
traffic.jsonl     Toxiproxy's byte counters per proxy each second (or why they were not measured)
prometheus.jsonl  each server-side series' value per second, and alert states (monitoring/)
prometheus/       the Prometheus server peakday started: prometheus.yml, rules.yml, data/
load-plan.json    what the Locust plugin is told to do
pids.json         every child process, for `peakday clean` after a SIGKILL
toxiproxy-ledger.jsonl  proxies and toxics made on the user's own Toxiproxy, for `peakday clean`
compose/          on the compose platform: the override file, Toxiproxy's config and the ledger
                  of what peakday changed in the user's project (for teardown and `peakday clean`)
worker.env        settings for Locust workers started elsewhere
logs/NAME.log     one log per child process
data/SERVICE/     the storefront services' stores (integrity check)
confirmations/    the 201s the journeys saw (integrity check)
report.html, summary.md, summary.svg, junit.xml   rendered from result.json
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from peakday.errors import UsageError

RESULT_FILE = "result.json"
EVENTS_FILE = "events.jsonl"
METRICS_FILE = "metrics.jsonl"
PIDS_FILE = "pids.json"
TOXIPROXY_LEDGER_FILE = "toxiproxy-ledger.jsonl"
TRAFFIC_FILE = "traffic.jsonl"
COMPOSE_DIR = "compose"
COMPOSE_LEDGER_FILE = "compose-ledger.json"
SERVER_SERIES_FILE = "prometheus.jsonl"
# The rendered reports, in the order they are written.
REPORT_HTML = "report.html"
SUMMARY_MD = "summary.md"
SUMMARY_SVG = "summary.svg"
JUNIT_XML = "junit.xml"
REPORT_FILES = (REPORT_HTML, SUMMARY_MD, SUMMARY_SVG, JUNIT_XML)


def write_text_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write `path` so that a reader (or a crash) sees the old file or the new one, never half.

    `text` may come in pieces (a long run's result), so it never has to be one string."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines([text] if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class RunFolder:
    path: Path

    @classmethod
    def of(cls, given: Path) -> RunFolder:
        """The folder a user named, also when they named its result.json."""
        return cls(given.parent if given.name == RESULT_FILE and not given.is_dir() else given)

    @property
    def result(self) -> Path:
        return self.path / RESULT_FILE

    @property
    def events(self) -> Path:
        return self.path / EVENTS_FILE

    @property
    def metrics(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def resources(self) -> Path:
        return self.path / "resources.jsonl"

    @property
    def traffic(self) -> Path:
        return self.path / TRAFFIC_FILE

    @property
    def server_series(self) -> Path:
        """Per-second values of PromQL queries and Prometheus alert states (monitoring/)."""
        return self.path / SERVER_SERIES_FILE

    @property
    def prometheus(self) -> Path:
        """The folder of the Prometheus server the run started (config, rules, data)."""
        return self.path / "prometheus"

    @property
    def load_plan(self) -> Path:
        return self.path / "load-plan.json"

    @property
    def pids(self) -> Path:
        return self.path / PIDS_FILE

    @property
    def toxiproxy_ledger(self) -> Path:
        """What the run created and added on a Toxiproxy server the user runs (faults/ledger.py)."""
        return self.path / TOXIPROXY_LEDGER_FILE

    @property
    def compose_override(self) -> Path:
        """The override file passed after the user's compose file (platforms/compose_override)."""
        return self.path / COMPOSE_DIR / "peakday-override.yml"

    @property
    def compose_toxiproxy_config(self) -> Path:
        return self.path / COMPOSE_DIR / "toxiproxy.json"

    @property
    def storefront_compose_dir(self) -> Path:
        """The storefront's compose project on `--platform compose` (docker-compose.yml and
        toxiproxy.json rendered from the topology: the same files as the repository's compose/)."""
        return self.path / COMPOSE_DIR / "storefront"

    @property
    def compose_ledger(self) -> Path:
        """What peakday changed in the user's Compose project, written before it changes it."""
        return self.path / COMPOSE_DIR / COMPOSE_LEDGER_FILE

    def write_compose_file(self, path: Path, text: str) -> Path:
        """Written atomically and readable by all: containers mount some of these files."""
        write_text_atomic(path, text)
        path.chmod(0o644)
        return path

    @property
    def worker_env(self) -> Path:
        return self.path / "worker.env"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def data(self, service: str) -> Path:
        return self.path / "data" / service

    @property
    def confirmations(self) -> Path:
        return self.path / "confirmations"

    @property
    def locust_csv_prefix(self) -> Path:
        """Locust's own CSV statistics (locust_stats.csv, ...), kept for comparison."""
        return self.path / "locust"

    def report(self, name: str) -> Path:
        """One of the rendered reports (report.html, summary.md, summary.svg, junit.xml)."""
        return self.path / name

    def refuse_used(self) -> None:
        """A folder that holds a run already would get two runs' events mixed in one log."""
        used = [p.name for p in (self.events, self.metrics, self.result) if p.exists()]
        if used:
            raise UsageError(
                f"The results folder {str(self.path)!r} already holds a run "
                f"({', '.join(used)}). Hint: pass another --out, or leave --out off for a new "
                "timestamped folder."
            )

    def write_result(self, json_text: str | Iterable[str]) -> Path:
        write_text_atomic(self.result, json_text)
        return self.result
