"""Settings of one storefront process, built from the command line and nothing else."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from peakday.storefront.passwords import ScryptParams
from peakday.storefront.profiles import PROFILES, Resilience

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
    # The resilience profile (profiles.py); None = "standard" with `auth_timeout_s` above.
    resilience: Resilience | None = None
    # Where the admin endpoint listens (admin.py); None = no admin endpoint at all.
    admin_host: str = "127.0.0.1"
    admin_port: int | None = None
    # Server processes on the same sockets (__main__.py forks them); 1 = this process alone.
    workers: int = 1

    @property
    def effective_resilience(self) -> Resilience:
        if self.resilience is not None:
            return self.resilience
        return dataclasses.replace(PROFILES["standard"], auth_timeout_s=self.auth_timeout_s)

    @property
    def database_path(self) -> Path:
        return self.data_dir / f"{self.service}.sqlite3"
