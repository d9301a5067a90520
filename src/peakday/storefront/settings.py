"""Settings of one storefront process, built from the command line and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from peakday.storefront.passwords import ScryptParams

ServiceName = Literal["auth", "checkout", "labels"]
SERVICE_NAMES: tuple[ServiceName, ...] = ("auth", "checkout", "labels")


@dataclass(frozen=True)
class StorefrontSettings:
    service: ServiceName
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    # Base URL checkout and labels use to reach auth (a Toxiproxy proxy during experiments).
    auth_url: str | None = None
    # Deadline for one whole introspection call (connect + send + wait + read), in seconds.
    auth_timeout_s: float = 2.0
    # Connections kept to auth; calls beyond this wait (within the deadline) for a free one.
    auth_max_connections: int = 100
    token_ttl_s: int = 3600
    scrypt: ScryptParams = field(default_factory=ScryptParams)
    # Threads used to hash the seeded accounts when auth creates a new database.
    seed_workers: int = 2

    @property
    def database_path(self) -> Path:
        return self.data_dir / f"{self.service}.sqlite3"
