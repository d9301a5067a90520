"""A user's Compose project as the real Compose CLI resolves it (`docker compose config --format
json`): its name, and per service the networks, aliases and dependencies the intercept needs.

Parsing is pure (`parse_project`); `read_project` runs the CLI. peakday never re-implements
compose's merging, interpolation or defaults: it reads what compose says.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COMPOSE_CONFIG_TIMEOUT_S = 60.0


class ComposeUnreadable(Exception):
    """`docker compose config` refused the project (or the CLI is missing); says why."""


@dataclass(frozen=True)
class ComposeService:
    name: str
    # network name in the project -> its extra aliases (compose adds the service's own name)
    networks: Mapping[str, tuple[str, ...]]
    depends_on: tuple[str, ...] = ()
    container_name: str | None = None
    network_mode: str | None = None  # host, none, service:NAME, container:NAME; None: networks
    image: str | None = None
    builds: bool = False


@dataclass(frozen=True)
class ComposeProject:
    name: str
    services: Mapping[str, ComposeService]
    networks: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    files: tuple[str, ...] = field(default_factory=tuple)

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(self.services)


def _aliases(value: object) -> tuple[str, ...]:
    if isinstance(value, Mapping):
        return tuple(str(alias) for alias in value.get("aliases") or ())
    return ()


def parse_service(name: str, raw: Mapping[str, Any]) -> ComposeService:
    networks_raw = raw.get("networks")
    mode = raw.get("network_mode")
    networks: dict[str, tuple[str, ...]] = {}
    if isinstance(networks_raw, Mapping):
        networks = {str(net): _aliases(conf) for net, conf in networks_raw.items()}
    elif isinstance(networks_raw, Sequence) and not isinstance(networks_raw, str):
        networks = {str(net): () for net in networks_raw}
    elif mode is None:
        networks = {"default": ()}  # what compose does for a service that names no network
    depends = raw.get("depends_on") or {}
    return ComposeService(
        name=name,
        networks=networks,
        depends_on=tuple(str(d) for d in depends),
        container_name=raw.get("container_name"),
        network_mode=str(mode) if mode is not None else None,
        image=raw.get("image"),
        builds=raw.get("build") is not None,
    )


def parse_project(config: Mapping[str, Any], files: Sequence[str] = ()) -> ComposeProject:
    """The parts of `docker compose config --format json` that the intercept needs."""
    services = config.get("services") or {}
    return ComposeProject(
        name=str(config.get("name") or ""),
        services={str(name): parse_service(str(name), raw) for name, raw in services.items()},
        networks=tuple(str(n) for n in config.get("networks") or {}),
        volumes=tuple(str(v) for v in config.get("volumes") or {}),
        files=tuple(files),
    )


def compose_base_argv(files: Sequence[Path | str], project: str | None) -> list[str]:
    argv = ["docker", "compose"]
    if project is not None:
        argv += ["-p", project]
    for file in files:
        argv += ["-f", str(file)]
    return argv


def read_project(file: Path, project: str | None) -> ComposeProject:
    """Ask the real Compose CLI how it reads the file; ComposeUnreadable says why it cannot."""
    argv = [*compose_base_argv([file], project), "config", "--format", "json"]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=COMPOSE_CONFIG_TIMEOUT_S, check=False
        )
    except FileNotFoundError as error:
        raise ComposeUnreadable(
            "the docker CLI is not installed. Hint: install Docker and the Compose v2 plugin "
            "(.ci/install-compose or 'make compose')."
        ) from error
    except subprocess.TimeoutExpired as error:
        raise ComposeUnreadable(
            f"'{' '.join(argv)}' did not answer within {COMPOSE_CONFIG_TIMEOUT_S:.0f} s."
        ) from error
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        reason = said[-1] if said else f"exit status {done.returncode}"
        if "is not a docker command" in (done.stderr or ""):
            reason = "the Compose v2 plugin is missing ('docker compose' is not a docker command)"
        raise ComposeUnreadable(f"'docker compose config' refused it: {reason}")
    try:
        config = json.loads(done.stdout)
    except ValueError as error:
        raise ComposeUnreadable(f"'docker compose config' printed no JSON: {error}") from error
    return parse_project(config, [str(file)])
