"""Where `tools install` and `doctor` meet the machine: one small Protocol and its real
implementation, so the logic above it is tested against a fake host."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class CommandOutput:
    returncode: int
    output: str  # stdout and stderr together


@dataclass(frozen=True)
class DockerStatus:
    """What the Docker engine said: its version (None: no engine answered, `error` says why)
    and which of the asked-for images it has."""

    version: str | None
    error: str = ""
    images: Mapping[str, bool] = field(default_factory=dict)


class Host(Protocol):
    def which(self, name: str) -> str | None: ...

    def is_executable(self, path: Path) -> bool: ...

    def run(
        self, argv: Sequence[str], env: Mapping[str, str] | None = None, timeout_s: float = 30.0
    ) -> CommandOutput:
        """Run to completion; a missing program or a timeout is returncode 127 / 124."""
        ...

    def install_file(self, source: Path, target: Path) -> None:
        """Move `source` to `target` (replacing it), creating target's folder."""
        ...

    def remove_empty_dir(self, path: Path) -> None:
        """Remove `path` if it is an empty folder; otherwise leave it."""
        ...

    def docker(self, images: Sequence[str]) -> DockerStatus: ...


class SystemHost:
    """The real machine."""

    def which(self, name: str) -> str | None:
        return shutil.which(name)

    def is_executable(self, path: Path) -> bool:
        return path.is_file() and os.access(path, os.X_OK)

    def run(
        self, argv: Sequence[str], env: Mapping[str, str] | None = None, timeout_s: float = 30.0
    ) -> CommandOutput:
        try:
            done = subprocess.run(
                list(argv),
                env=dict(env) if env is not None else None,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except FileNotFoundError as error:
            return CommandOutput(127, str(error))
        except subprocess.TimeoutExpired:
            return CommandOutput(124, f"{argv[0]} did not finish within {timeout_s:.0f} s")
        return CommandOutput(done.returncode, (done.stdout or "") + (done.stderr or ""))

    def install_file(self, source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))

    def remove_empty_dir(self, path: Path) -> None:
        with contextlib.suppress(OSError):
            path.rmdir()

    def docker(self, images: Sequence[str]) -> DockerStatus:
        from peakday.errors import EnvironmentProblem
        from peakday.images.engine import connect_docker

        try:
            engine = connect_docker(timeout_s=5.0)
            version = str(engine.client.version().get("Version", "unknown"))
        except EnvironmentProblem as error:
            return DockerStatus(None, str(error).split(" Hint:")[0])
        return DockerStatus(version, "", {image: engine.has_image(image) for image in images})
