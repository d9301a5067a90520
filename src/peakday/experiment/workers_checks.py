"""Checks on `storefront.workers` (pure; used by crossref.py).

Several server processes per storefront service share its listening sockets (storefront/
__main__.py). State kept per process stays per process: each worker has its own circuit breaker
and introspection cache (like replicas behind a load balancer), its own fault board and its own
/metrics registry. So faults played through the admin endpoint, and Prometheus scraping the
services, would each reach one worker at random: they are refused here, not silently wrong.
"""

from __future__ import annotations

from collections.abc import Iterator

from peakday.errors import SpecIssue
from peakday.experiment.models import Experiment
from peakday.experiment.yaml_lines import Locator

WORKERS_HINT = "Remove storefront.workers (one process per service) or set it to 1."


def workers_issues(experiment: Experiment, locator: Locator) -> Iterator[SpecIssue]:
    workers = experiment.storefront.workers
    if workers == 1:
        return
    here = ("storefront", "workers")
    if experiment.platform != "local":
        yield locator.issue(
            here,
            f"storefront.workers: {workers} runs several server processes per service, which "
            f"only the local platform does; this experiment's platform is "
            f"{experiment.platform!r}.",
            f"Set platform: local, or {WORKERS_HINT[0].lower()}{WORKERS_HINT[1:]}",
        )
        return
    for index, fault in enumerate(experiment.faults):
        if fault.is_behaviour_fault:
            yield locator.issue(
                ("faults", index, "behaviour"),
                f"The service-level fault {fault.label!r} cannot run with storefront.workers: "
                f"{workers}: each worker process keeps its own fault board, so the fault would "
                "reach one worker only.",
                f"Use a network fault (proxy + toxic) or a service action, or {WORKERS_HINT}",
            )
    if experiment.monitoring is not None:
        yield locator.issue(
            ("monitoring",),
            f"monitoring cannot be used with storefront.workers: {workers}: each worker process "
            "serves its own /metrics, so a scrape would see one worker's counters at random.",
            f"Remove monitoring, or {WORKERS_HINT[0].lower()}{WORKERS_HINT[1:]}",
        )
