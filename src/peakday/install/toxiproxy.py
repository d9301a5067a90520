"""`peakday tools install`: toxiproxy-server and toxiproxy-cli at the pinned version in the tools
folder, built with `go install` (the version stamped in with -ldflags, as upstream's releases
are); without Go, the message says where to download them instead."""

from __future__ import annotations

import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from peakday.errors import EnvironmentProblem
from peakday.install.host import Host
from peakday.processes.tools import TOXIPROXY_VERSION

TOXIPROXY_MODULE = "github.com/Shopify/toxiproxy/v2"
# binary name in the tools folder -> the module's command it is built from
TOXIPROXY_BINARIES: Mapping[str, str] = {"toxiproxy-server": "server", "toxiproxy-cli": "cli"}
RELEASES_URL = "https://github.com/Shopify/toxiproxy/releases/download"
GO_INSTALL_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class ToolVersion:
    path: Path
    version: str | None  # None: it did not say


@dataclass(frozen=True)
class InstallReport:
    tools_dir: Path
    installed: tuple[str, ...]  # binaries built now
    already_there: tuple[str, ...]  # binaries present at the pinned version, left alone


def go_install_argv(go: str, version: str = TOXIPROXY_VERSION) -> list[str]:
    """The `go install` of both commands, with the version stamped in as upstream does."""
    return [
        go,
        "install",
        "-ldflags",
        f"-X {TOXIPROXY_MODULE}.Version={version}",
        *(
            f"{TOXIPROXY_MODULE}/cmd/{command}@v{version}"
            for command in TOXIPROXY_BINARIES.values()
        ),
    ]


def parse_version(output: str) -> str | None:
    """'toxiproxy-server version 2.12.0' (or 'v2.12.0') -> '2.12.0'."""
    match = re.search(r"\bv?(\d+\.\d+\.\d+)\b", output)
    return match.group(1) if match else None


def tool_version(host: Host, path: Path) -> ToolVersion | None:
    """The binary at `path` and the version it reports, or None when there is none."""
    if not host.is_executable(path):
        return None
    return ToolVersion(path, parse_version(host.run([str(path), "-version"], timeout_s=10).output))


def release_assets(system: str, machine: str, version: str = TOXIPROXY_VERSION) -> list[str]:
    """Download addresses of both binaries for this OS and CPU, from the GitHub release."""
    os_name = system.lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine.lower(), machine.lower()
    )
    return [f"{RELEASES_URL}/v{version}/{name}-{os_name}-{arch}" for name in TOXIPROXY_BINARIES]


def without_go_hint(tools_dir: Path, system: str = "", machine: str = "") -> str:
    """How to get the binaries when Go is not installed."""
    urls = release_assets(system or platform.system(), machine or platform.machine())
    steps = "; ".join(
        f"curl -fLo {tools_dir / name} {url}"
        for name, url in zip(TOXIPROXY_BINARIES, urls, strict=True)
    )
    return (
        f"Hint: install Go (https://go.dev/dl/, or 'apt-get install golang-go') and re-run "
        f"'peakday tools install', or download the release binaries: mkdir -p {tools_dir}; "
        f"{steps}; chmod +x {tools_dir}/toxiproxy-*  (macOS: 'brew install toxiproxy' puts them "
        "on PATH). Then 'peakday doctor' checks them."
    )


def install_toxiproxy(
    host: Host, tools_dir: Path, environ: Mapping[str, str], *, force: bool = False
) -> InstallReport:
    """Build both binaries into `tools_dir` unless they are there at the pinned version.

    Raises EnvironmentProblem (exit 3) when Go is missing or the build fails."""
    present = {name: tool_version(host, tools_dir / name) for name in TOXIPROXY_BINARIES}
    current = tuple(
        name
        for name, found in present.items()
        if found is not None and found.version == TOXIPROXY_VERSION
    )
    if len(current) == len(TOXIPROXY_BINARIES) and not force:
        return InstallReport(tools_dir, (), current)
    go = host.which("go")
    if go is None:
        raise EnvironmentProblem(
            f"Go is not installed, so toxiproxy v{TOXIPROXY_VERSION} cannot be built into "
            f"{str(tools_dir)!r}. {without_go_hint(tools_dir)}"
        )
    gobin = tools_dir / ".gobin"
    env = {**environ, "GOBIN": str(gobin), "CGO_ENABLED": "0"}
    built = host.run(go_install_argv(go), env=env, timeout_s=GO_INSTALL_TIMEOUT_S)
    if built.returncode != 0:
        tail = " ".join(built.output.strip().splitlines()[-5:])
        raise EnvironmentProblem(
            f"'go install' of toxiproxy v{TOXIPROXY_VERSION} failed (exit {built.returncode}): "
            f"{tail} {without_go_hint(tools_dir)}"
        )
    for name, command in TOXIPROXY_BINARIES.items():
        host.install_file(gobin / command, tools_dir / name)
    host.remove_empty_dir(gobin)
    server = tool_version(host, tools_dir / "toxiproxy-server")
    if server is None or server.version != TOXIPROXY_VERSION:
        raise EnvironmentProblem(
            f"The toxiproxy-server built into {str(tools_dir)!r} reports version "
            f"{server.version if server else None!r}, not {TOXIPROXY_VERSION!r}. "
            "Hint: run 'peakday tools install --force' with -v to see the build."
        )
    return InstallReport(tools_dir, tuple(TOXIPROXY_BINARIES), ())
