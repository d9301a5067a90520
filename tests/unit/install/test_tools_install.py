"""`peakday tools install` on a fake host: what it builds, where, and its hint without Go."""

from __future__ import annotations

from pathlib import Path

import pytest

from peakday.errors import EnvironmentProblem
from peakday.install.toxiproxy import (
    go_install_argv,
    install_toxiproxy,
    parse_version,
    release_assets,
)
from unit.install.fake_host import FakeHost

TOOLS = Path("/home/u/.local/share/peakday/tools/bin")


def test_go_install_builds_both_commands_with_the_version_stamped_in() -> None:
    argv = go_install_argv("/usr/bin/go")
    assert argv[:4] == [
        "/usr/bin/go",
        "install",
        "-ldflags",
        "-X github.com/Shopify/toxiproxy/v2.Version=2.12.0",
    ]
    assert argv[4:] == [
        "github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0",
        "github.com/Shopify/toxiproxy/v2/cmd/cli@v2.12.0",
    ]


def test_install_builds_into_the_tools_folder_under_the_binary_names() -> None:
    host = FakeHost(on_path={"go": "/usr/bin/go"})
    report = install_toxiproxy(host, TOOLS, {"HOME": "/home/u"})
    assert report.installed == ("toxiproxy-server", "toxiproxy-cli")
    assert host.files[TOOLS / "toxiproxy-server"] == "toxiproxy-server version 2.12.0"
    assert TOOLS / "toxiproxy-cli" in host.files
    (argv, env), *_ = host.runs
    assert argv[1] == "install"
    assert env["CGO_ENABLED"] == "0"
    assert env["GOBIN"].startswith(str(TOOLS))
    assert env["HOME"] == "/home/u"  # go needs its module cache
    assert host.removed_dirs == [Path(env["GOBIN"])]  # go's output folder is not left behind


def test_install_leaves_the_pinned_version_alone_and_replaces_another() -> None:
    pinned = {
        TOOLS / "toxiproxy-server": "toxiproxy-server version 2.12.0",
        TOOLS / "toxiproxy-cli": "toxiproxy-cli version 2.12.0",
    }
    host = FakeHost(on_path={"go": "/usr/bin/go"}, files=dict(pinned))
    report = install_toxiproxy(host, TOOLS, {})
    assert report.already_there == ("toxiproxy-server", "toxiproxy-cli")
    assert not host.runs or all(argv[1] != "install" for argv, _ in host.runs)

    old = FakeHost(
        on_path={"go": "/usr/bin/go"},
        files={**pinned, TOOLS / "toxiproxy-server": "toxiproxy-server version 2.5.0"},
    )
    assert install_toxiproxy(old, TOOLS, {}).installed == ("toxiproxy-server", "toxiproxy-cli")
    assert old.files[TOOLS / "toxiproxy-server"].endswith("2.12.0")


def test_without_go_the_error_says_where_to_download_the_binaries() -> None:
    with pytest.raises(EnvironmentProblem) as raised:
        install_toxiproxy(FakeHost(), TOOLS, {})
    message = str(raised.value)
    assert "Go is not installed" in message
    assert "releases/download/v2.12.0/toxiproxy-server-" in message
    assert str(TOOLS) in message
    assert raised.value.exit_code == 3


def test_a_failed_build_shows_go_s_output() -> None:
    host = FakeHost(on_path={"go": "/usr/bin/go"}, go_builds=False)
    with pytest.raises(EnvironmentProblem, match="GOPROXY=off"):
        install_toxiproxy(host, TOOLS, {})


@pytest.mark.parametrize(
    ("system", "machine", "suffix"),
    [("Linux", "x86_64", "linux-amd64"), ("Darwin", "arm64", "darwin-arm64")],
)
def test_release_assets_name_the_os_and_cpu(system: str, machine: str, suffix: str) -> None:
    server, cli = release_assets(system, machine)
    assert server.endswith(f"/v2.12.0/toxiproxy-server-{suffix}")
    assert cli.endswith(f"/v2.12.0/toxiproxy-cli-{suffix}")


def test_parse_version() -> None:
    assert parse_version("toxiproxy-server version 2.12.0\n") == "2.12.0"
    assert parse_version("v2.40.3") == "2.40.3"
    assert parse_version("nothing") is None
