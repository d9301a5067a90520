"""A fake machine for `tools install` and `doctor`: programs on PATH, files in folders, the
output each command gives, and a Docker engine with some images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from peakday.install.host import CommandOutput, DockerStatus


@dataclass
class FakeHost:
    on_path: dict[str, str] = field(default_factory=dict)  # name -> path
    files: dict[Path, str] = field(default_factory=dict)  # executable -> its '-version' output
    go_builds: bool = True
    docker_version: str | None = "27.0.1"
    images_present: set[str] = field(default_factory=set)
    compose_version: str | None = "2.40.3"
    runs: list[tuple[list[str], dict[str, str]]] = field(default_factory=list)
    removed_dirs: list[Path] = field(default_factory=list)

    def which(self, name: str) -> str | None:
        return self.on_path.get(name)

    def is_executable(self, path: Path) -> bool:
        return path in self.files

    def run(
        self, argv: Sequence[str], env: Mapping[str, str] | None = None, timeout_s: float = 30.0
    ) -> CommandOutput:
        self.runs.append((list(argv), dict(env or {})))
        program = argv[0]
        if argv[1:] == ["install", *argv[2:]] and program == self.on_path.get("go"):
            if not self.go_builds:
                return CommandOutput(1, "go: module lookup disabled by GOPROXY=off")
            gobin = Path(dict(env or {})["GOBIN"])
            self.files[gobin / "server"] = "toxiproxy-server version 2.12.0"
            self.files[gobin / "cli"] = "toxiproxy-cli version 2.12.0"
            return CommandOutput(0, "")
        if program == self.on_path.get("go"):
            return CommandOutput(0, "go version go1.26.8 linux/amd64")
        if program == "docker":
            if self.compose_version is None:
                return CommandOutput(1, "docker: 'compose' is not a docker command.")
            return CommandOutput(0, self.compose_version)
        if Path(program) in self.files:
            return CommandOutput(0, self.files[Path(program)])
        return CommandOutput(127, f"{program}: not found")

    def install_file(self, source: Path, target: Path) -> None:
        self.files[target] = self.files.pop(source)

    def remove_empty_dir(self, path: Path) -> None:
        if not any(file.parent == path for file in self.files):
            self.removed_dirs.append(path)

    def docker(self, images: Sequence[str]) -> DockerStatus:
        if self.docker_version is None:
            return DockerStatus(None, "No Docker engine answered at unix:///var/run/docker.sock")
        return DockerStatus(
            self.docker_version, "", {image: image in self.images_present for image in images}
        )
