"""`peakday doctor`: what is present on this machine, its version, and what each platform still
lacks, with the command that fixes each. Pure checks over the Host seam."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from peakday.install.host import Host
from peakday.install.toxiproxy import parse_version, tool_version, without_go_hint
from peakday.processes.tools import TOXIPROXY_VERSION

# what each platform needs; "screenshots" is the optional report screenshot check
PLATFORM_NEEDS: Mapping[str, tuple[str, ...]] = {
    "local": ("toxiproxy-server",),
    "external": ("toxiproxy-server",),
    "docker": ("docker engine", "images"),
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str  # where and which version, or what is wrong
    fix: str = ""  # the command (or step) that fixes it; empty when ok
    needed_for: str = ""  # what needs it, for the reader


def find_tool(host: Host, name: str, tools_dirs: Sequence[Path]) -> Path | None:
    """The tools folders first, then PATH, as a run looks for it."""
    for folder in tools_dirs:
        if host.is_executable(folder / name):
            return folder / name
    found = host.which(name)
    return Path(found) if found else None


def check_toxiproxy(host: Host, name: str, tools_dirs: Sequence[Path]) -> Check:
    needed_for = "platforms local and external" if name == "toxiproxy-server" else "optional"
    path = find_tool(host, name, tools_dirs)
    install_dir = tools_dirs[0]
    if path is None:
        return Check(name, False, "not found", "peakday tools install", needed_for)
    found = tool_version(host, path)
    version = found.version if found else None
    if version != TOXIPROXY_VERSION:
        return Check(
            name,
            False,
            f"{path} is version {version or 'unknown'}, peakday needs {TOXIPROXY_VERSION}",
            f"peakday tools install (into {install_dir}, looked at first)",
            needed_for,
        )
    return Check(name, True, f"{version} at {path}", "", needed_for)


def check_go(host: Host, tools_dirs: Sequence[Path]) -> Check:
    go = host.which("go")
    if go is None:
        return Check(
            "go",
            False,
            "not found",
            without_go_hint(tools_dirs[0]).removeprefix("Hint: "),
            "peakday tools install",
        )
    version = host.run([go, "version"], timeout_s=10).output.split()
    shown = version[2] if len(version) > 2 else "unknown version"
    return Check("go", True, f"{shown} at {go}", "", "peakday tools install")


def check_docker(host: Host, images: Sequence[str]) -> list[Check]:
    status = host.docker(images)
    if status.version is None:
        fix = (
            "start a Docker engine ('sudo systemctl start docker'; in a checkout "
            "'.ci/start-dockerd')"
        )
        return [
            Check(
                "docker engine", False, status.error or "no engine answered", fix, "platform docker"
            ),
            Check("images", False, "unknown: no Docker engine", fix, "platform docker"),
        ]
    missing = [image for image, present in status.images.items() if not present]
    images_check = (
        Check(
            "images",
            False,
            "missing " + ", ".join(missing),
            "peakday images build --offline (or without --offline from public base images)",
            "platform docker",
        )
        if missing
        else Check("images", True, ", ".join(status.images), "", "platform docker")
    )
    return [Check("docker engine", True, status.version, "", "platform docker"), images_check]


def check_compose(host: Host) -> Check:
    done = host.run(["docker", "compose", "version", "--short"], timeout_s=10)
    version = parse_version(done.output) if done.returncode == 0 else None
    if version is None:
        return Check(
            "docker compose",
            False,
            "the Compose v2 plugin does not answer 'docker compose version'",
            "install Docker Compose v2 ('apt-get install docker-compose-plugin'; in a checkout "
            "'.ci/install-compose')",
            "compose/docker-compose.yml (optional)",
        )
    return Check("docker compose", True, version, "", "compose/docker-compose.yml (optional)")


def check_chromium(host: Host) -> Check:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = host.which(name)
        if path:
            return Check("chromium", True, path, "", "report screenshots (optional)")
    return Check(
        "chromium", False, "not found", "apt-get install chromium", "report screenshots (optional)"
    )


def run_checks(host: Host, tools_dirs: Sequence[Path], images: Sequence[str]) -> list[Check]:
    return [
        check_toxiproxy(host, "toxiproxy-server", tools_dirs),
        check_toxiproxy(host, "toxiproxy-cli", tools_dirs),
        check_go(host, tools_dirs),
        *check_docker(host, images),
        check_compose(host),
        check_chromium(host),
    ]


def missing_for(checks: Sequence[Check], platforms: Sequence[str]) -> list[Check]:
    """The failed checks the given platforms need (the others are reported, not required)."""
    needed = {name for platform in platforms for name in PLATFORM_NEEDS[platform]}
    return [check for check in checks if not check.ok and check.name in needed]


def format_checks(checks: Sequence[Check]) -> str:
    width = max(len(check.name) for check in checks)
    lines = []
    for check in checks:
        mark = "ok     " if check.ok else "MISSING"
        line = f"{mark}  {check.name:<{width}}  {check.detail}  [{check.needed_for}]"
        if check.fix:
            line += f"\n{'':<{width + 11}}fix: {check.fix}"
        lines.append(line)
    return "\n".join(lines)
