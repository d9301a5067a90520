"""`peakday run --master-bind HOST:PORT --expect-workers N`: checked, then applied over the
experiment's load.master_bind and load.external_workers (pure)."""

from __future__ import annotations

import re

from peakday.errors import UsageError
from peakday.experiment.models import Experiment

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
