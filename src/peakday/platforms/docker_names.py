"""The names and labels of one run's Docker network and containers, shared by the Docker platform,
its Locust workers and `peakday clean` (which finds a crashed run's leftovers by these labels)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from peakday.images.build import LABEL_PREFIX, MANAGED_LABEL

RUN_LABEL = f"{LABEL_PREFIX}.run"
EXPERIMENT_LABEL = f"{LABEL_PREFIX}.experiment"
SERVICE_LABEL = f"{LABEL_PREFIX}.service"
PID_LABEL = f"{LABEL_PREFIX}.orchestrator-pid"
HOST_LABEL = f"{LABEL_PREFIX}.host"
RUN_DIR_LABEL = f"{LABEL_PREFIX}.run-dir"


def run_labels(run_id: str, experiment: str, run_dir: Path) -> dict[str, str]:
    """Labels on the network and every container of one run."""
    return {
        MANAGED_LABEL: "true",
        RUN_LABEL: run_id,
        EXPERIMENT_LABEL: experiment,
        PID_LABEL: str(os.getpid()),
        HOST_LABEL: socket.gethostname(),
        RUN_DIR_LABEL: str(run_dir),
    }


def network_name(run_id: str) -> str:
    return f"peakday-{run_id.lower()}"


def container_name(run_id: str, component: str) -> str:
    return f"peakday-{run_id.lower()}-{component}"
