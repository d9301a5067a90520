"""Chooses the platform an experiment asks for."""

from __future__ import annotations

from peakday.errors import UsageError
from peakday.orchestrator import RunConfig
from peakday.platforms.base import Platform
from peakday.platforms.local import LocalPlatform
from peakday.platforms.processes import ProcessGroup
from peakday.topology import storefront_topology


def make_platform(config: RunConfig, processes: ProcessGroup) -> Platform:
    name = config.experiment.platform
    if name == "local":
        return LocalPlatform(storefront_topology(), config.run_dir, config.tools_dirs, processes)
    raise UsageError(
        f"The {name!r} platform is not available in this version. Hint: use 'platform: local'."
    )
