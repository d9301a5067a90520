"""The real Docker Compose v2 CLI behind a small Protocol: the compose platform's only way to
bring a user's project up, restore it and bring it down (never a re-implementation)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from peakday.errors import EnvironmentProblem, UsageError
from peakday.experiment.compose_project import compose_base_argv

UP_WAIT_TIMEOUT_S = 120
DOWN_TIMEOUT_S = 5
MISSING_IMAGE_SIGNS = ("No such image", "pull access denied", "image not known", "not found")


@dataclass(frozen=True)
class ComposeTarget:
    """Which project, read from which files (the user's, then peakday's override)."""

    project: str
    files: tuple[Path, ...]


@dataclass(frozen=True)
class ServiceState:
    container: str
    state: str  # running, exited, paused, created, ...


class ComposeCli(Protocol):
    def states(self, target: ComposeTarget) -> Mapping[str, ServiceState]:
        """Service -> its container and state, stopped containers included."""
        ...

    def up(
        self,
        target: ComposeTarget,
        services: Sequence[str] = (),
        *,
        pull: bool = False,
        build: bool = False,
        no_deps: bool = False,
        start: bool = True,
    ) -> None: ...

    def down(self, target: ComposeTarget) -> None: ...

    def remove(self, target: ComposeTarget, services: Sequence[str]) -> None:
        """Stop and remove these services' containers."""
        ...

    def stop(self, target: ComposeTarget, services: Sequence[str]) -> None: ...

    def port(self, target: ComposeTarget, service: str, port: int) -> str:
        """The 127.0.0.1:PORT where the service's container port is published."""
        ...


def parse_ps(text: str) -> dict[str, ServiceState]:
    """`docker compose ps --format json`: a JSON array, or one object a line (newer CLIs)."""
    text = text.strip()
    if not text:
        return {}
    rows = json.loads(text) if text.startswith("[") else [json.loads(x) for x in text.splitlines()]
    return {
        str(row["Service"]): ServiceState(str(row["Name"]), str(row["State"]).lower())
        for row in rows
    }


def loopback_address(published: str) -> str:
    """'0.0.0.0:49153' or '127.0.0.1:49153' -> '127.0.0.1:49153' (reached from this machine)."""
    port = published.strip().splitlines()[0].rsplit(":", 1)[1]
    return f"127.0.0.1:{port}"


class SubprocessComposeCli:
    """ComposeCli running `docker compose` (the Compose v2 plugin)."""

    def __init__(self, timeout_s: float = UP_WAIT_TIMEOUT_S + 60) -> None:
        self._timeout_s = timeout_s

    def _run(self, target: ComposeTarget, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [*compose_base_argv(target.files, target.project), *args]
        try:
            return subprocess.run(
                argv, capture_output=True, text=True, timeout=self._timeout_s, check=False
            )
        except FileNotFoundError as error:
            raise EnvironmentProblem(
                "The docker CLI is not installed. Hint: install Docker and the Compose v2 plugin "
                "('make compose')."
            ) from error
        except subprocess.TimeoutExpired as error:
            raise EnvironmentProblem(
                f"'{' '.join(argv)}' did not finish within {self._timeout_s:.0f} s. Hint: "
                "'docker compose ps' and 'docker compose logs' show what it waits for."
            ) from error

    def _checked(self, target: ComposeTarget, *args: str) -> str:
        done = self._run(target, *args)
        if done.returncode != 0:
            raise EnvironmentProblem(
                f"'docker compose {' '.join(args)}' failed for project {target.project!r} "
                f"(exit status {done.returncode}): {(done.stderr or done.stdout).strip()[-1500:]}"
                "\nHint: 'docker compose -p PROJECT logs' shows the services' side."
            )
        return done.stdout

    def states(self, target: ComposeTarget) -> dict[str, ServiceState]:
        return parse_ps(self._checked(target, "ps", "--all", "--format", "json"))

    def up(
        self,
        target: ComposeTarget,
        services: Sequence[str] = (),
        *,
        pull: bool = False,
        build: bool = False,
        no_deps: bool = False,
        start: bool = True,
    ) -> None:
        args = ["up", "--pull", "missing" if pull else "never"]
        args += ["--build"] if build else ["--no-build"]
        if start:
            args += ["-d", "--wait", "--wait-timeout", str(UP_WAIT_TIMEOUT_S)]
        else:
            args += ["--no-start"]
        if no_deps:
            args.append("--no-deps")
        done = self._run(target, *args, *services)
        if done.returncode == 0:
            return
        said = (done.stderr or done.stdout).strip()
        if not pull and any(sign in said for sign in MISSING_IMAGE_SIGNS):
            raise UsageError(
                f"Compose could not bring project {target.project!r} up: an image is missing "
                f"and peakday does not pull or build unless told to. Compose said: "
                f"{said[-800:]}\nHint: build the images ('docker compose build'), or pass "
                "--build (or --pull) to 'peakday run' to let compose do it."
            )
        raise EnvironmentProblem(
            f"'docker compose up' failed for project {target.project!r} (exit status "
            f"{done.returncode}): {said[-1500:]}\nHint: 'docker compose -p "
            f"{target.project} logs' shows why a service did not start or become healthy."
        )

    def down(self, target: ComposeTarget) -> None:
        self._checked(target, "down", "--remove-orphans", "--timeout", str(DOWN_TIMEOUT_S))

    def remove(self, target: ComposeTarget, services: Sequence[str]) -> None:
        if services:
            self._checked(target, "rm", "--stop", "--force", *services)

    def stop(self, target: ComposeTarget, services: Sequence[str]) -> None:
        if services:
            self._checked(target, "stop", "--timeout", str(DOWN_TIMEOUT_S), *services)

    def port(self, target: ComposeTarget, service: str, port: int) -> str:
        return loopback_address(self._checked(target, "port", service, str(port)))
