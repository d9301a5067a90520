"""`peakday doctor` against a fake host: present, version, and the fixing command for each."""

from __future__ import annotations

from pathlib import Path

from peakday.install.doctor import format_checks, missing_for, run_checks
from unit.install.fake_host import FakeHost

TOOLS = (Path("/tools"), Path("/repo/.tools/bin"))
IMAGES = ("peakday/storefront:0.1.0", "peakday/toxiproxy:0.1.0")


def ready_host() -> FakeHost:
    return FakeHost(
        on_path={"go": "/usr/bin/go", "chromium": "/usr/bin/chromium"},
        files={
            Path("/tools/toxiproxy-server"): "toxiproxy-server version 2.12.0",
            Path("/tools/toxiproxy-cli"): "toxiproxy-cli version 2.12.0",
        },
        images_present=set(IMAGES),
    )


def by_name(host: FakeHost) -> dict[str, tuple[bool, str, str]]:
    return {c.name: (c.ok, c.detail, c.fix) for c in run_checks(host, TOOLS, IMAGES)}


def test_a_ready_machine_reports_every_tool_with_its_version() -> None:
    checks = run_checks(ready_host(), TOOLS, IMAGES)
    assert all(check.ok for check in checks)
    assert not missing_for(checks, ("local", "docker", "external"))
    found = by_name(ready_host())
    assert found["toxiproxy-server"][1] == "2.12.0 at /tools/toxiproxy-server"
    assert found["go"][1].startswith("go1.26.8")
    assert found["docker engine"][1] == "27.0.1"


def test_a_missing_toxiproxy_is_named_with_its_fix_and_fails_local_only() -> None:
    host = ready_host()
    host.files.clear()
    checks = run_checks(host, TOOLS, IMAGES)
    assert [c.name for c in missing_for(checks, ("local",))] == ["toxiproxy-server"]
    assert by_name(host)["toxiproxy-server"][2] == "peakday tools install"
    assert not missing_for(checks, ("docker",))
    assert "MISSING  toxiproxy-server" in format_checks(checks)


def test_a_toxiproxy_of_another_version_on_path_is_not_enough() -> None:
    host = ready_host()
    host.files = {Path("/usr/bin/toxiproxy-server"): "toxiproxy-server version 2.5.0"}
    host.on_path["toxiproxy-server"] = "/usr/bin/toxiproxy-server"
    ok, detail, fix = by_name(host)["toxiproxy-server"]
    assert not ok
    assert "2.5.0" in detail
    assert fix.startswith("peakday tools install")


def test_docker_platform_needs_an_engine_and_the_images() -> None:
    host = ready_host()
    host.images_present = {IMAGES[0]}
    checks = run_checks(host, TOOLS, IMAGES)
    (images,) = missing_for(checks, ("docker",))
    assert images.detail == f"missing {IMAGES[1]}"
    assert images.fix.startswith("peakday images build --offline")

    host.docker_version = None
    names = [c.name for c in missing_for(run_checks(host, TOOLS, IMAGES), ("docker",))]
    assert names == ["docker engine", "images"]


def test_no_go_compose_or_chromium_is_reported_with_the_fix_but_not_required() -> None:
    host = ready_host()
    host.on_path = {}
    host.compose_version = None
    checks = run_checks(host, TOOLS, IMAGES)
    found = by_name(host)
    assert not found["go"][0] and "go.dev/dl" in found["go"][2]
    assert not found["docker compose"][0] and "compose" in found["docker compose"][2]
    assert found["chromium"] == (False, "not found", "apt-get install chromium")
    assert not missing_for(checks, ("local", "docker", "external"))
