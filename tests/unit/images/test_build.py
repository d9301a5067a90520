"""Image building and presence checks, against a fake engine and a fake host toolchain."""

from __future__ import annotations

import struct
import tarfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from peakday.errors import EnvironmentProblem, ImageMissing
from peakday.images.build import (
    OFFLINE_PYTHON_BASE,
    OFFLINE_TOXIPROXY_BASE,
    PUBLIC_PYTHON_BASE,
    PUBLIC_TOXIPROXY_BASE,
    BuildReport,
    BuildStep,
    build_images,
    build_request,
    find_project_dir,
    format_build_report,
    is_static_elf,
    label_changes,
    locate_build_paths,
    missing_images,
    require_images,
    runtime_images,
)
from peakday.images.build_contexts import DOCKERFILE_DIR, BuildPaths, wheel_cache_key
from peakday.images.engine import BuildRequest, ImportRequest

REPO_ROOT = Path(__file__).resolve().parents[3]


def elf_executable(*, with_interpreter: bool) -> bytes:
    """A minimal little-endian ELF64 header with one program header (PT_INTERP or PT_LOAD)."""
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4] = 2  # 64-bit
    header[5] = 1  # little-endian
    struct.pack_into("<Q", header, 0x20, 64)  # e_phoff
    struct.pack_into("<HH", header, 0x36, 56, 1)  # e_phentsize, e_phnum
    program_header = bytearray(56)
    struct.pack_into("<I", program_header, 0, 3 if with_interpreter else 1)
    return bytes(header + program_header)


class FakeEngine:
    def __init__(self, images: Sequence[str] = ()) -> None:
        self.images = set(images)
        self.builds: list[BuildRequest] = []
        self.imports: list[ImportRequest] = []
        self.imported_members: dict[str, list[str]] = {}

    def has_image(self, reference: str) -> bool:
        return reference in self.images

    def build(self, request: BuildRequest) -> str:
        assert (request.context_dir / request.dockerfile).is_file()
        self.builds.append(request)
        self.images.add(request.tag)
        return f"sha256:{len(self.builds)}"

    def import_tarball(self, request: ImportRequest) -> str:
        with tarfile.open(request.tarball) as archive:
            self.imported_members[request.tag] = archive.getnames()
        self.imports.append(request)
        self.images.add(request.tag)
        return f"sha256:import{len(self.imports)}"

    def image_size_bytes(self, reference: str) -> int:
        return 42_000_000


class FakeToolchain:
    def __init__(self, interpreter_tag: str = "cp311-linux_x86_64", static: bool = True) -> None:
        self.tag = interpreter_tag
        self.static = static
        self.wheel_builds: list[bool] = []  # with_dependencies, per call
        self.debian_bootstraps = 0
        self.toxiproxy_builds = 0

    def interpreter_tag(self) -> str:
        return self.tag

    def build_wheels(self, project_dir: Path, wheel_dir: Path, *, with_dependencies: bool) -> None:
        assert (project_dir / "pyproject.toml").is_file()
        self.wheel_builds.append(with_dependencies)
        wheel_dir.mkdir(parents=True, exist_ok=True)
        (wheel_dir / "peakday-0.1.0-py3-none-any.whl").write_bytes(b"project")
        if with_dependencies:
            (wheel_dir / "fastapi-0.110.0-py3-none-any.whl").write_bytes(b"dependency")

    def bootstrap_debian(self, out_tarball: Path, *, suite: str, sources: Sequence[str]) -> None:
        self.debian_bootstraps += 1
        out_tarball.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(out_tarball, "w") as archive:
            archive.addfile(tarfile.TarInfo("etc"))

    def build_toxiproxy(self, out_binary: Path, *, version: str) -> None:
        self.toxiproxy_builds += 1
        out_binary.write_bytes(elf_executable(with_interpreter=not self.static))


@pytest.fixture
def paths(tmp_path: Path) -> BuildPaths:
    project = tmp_path / "project"
    (project / "src" / "peakday").mkdir(parents=True)
    (project / "src" / "peakday" / "__init__.py").write_text("")
    dockerfiles = project / "src" / "peakday" / "images" / "dockerfiles"
    dockerfiles.mkdir(parents=True)
    for name in (
        "Dockerfile.storefront",
        "Dockerfile.toxiproxy",
        "Dockerfile.peakday",
        "Dockerfile.prometheus",
    ):
        (dockerfiles / name).write_text("FROM ${BASE_IMAGE}\n")
    (project / "pyproject.toml").write_text('[project]\nname = "peakday"\n')
    return replace(BuildPaths.for_project(project), dockerfile_dir=dockerfiles)


def test_missing_image_error_names_the_image_and_the_build_command() -> None:
    engine = FakeEngine(images=["peakday/toxiproxy:0.1.0"])

    with pytest.raises(ImageMissing) as raised:
        require_images(engine, runtime_images("0.1.0"))

    message = str(raised.value)
    assert message.startswith("Image 'peakday/storefront:0.1.0' is not present")
    assert "never pulls" in message
    assert "Hint: build them with 'peakday images build --offline'" in message
    assert raised.value.exit_code == 3


def test_missing_image_error_lists_every_absent_image() -> None:
    with pytest.raises(ImageMissing, match=r"^Images 'peakday/storefront:1\.2' and "):
        require_images(FakeEngine(), runtime_images("1.2"))


def test_missing_images_keeps_the_given_order_and_skips_present_ones() -> None:
    engine = FakeEngine(images=["b"])

    assert missing_images(engine, ["c", "b", "a"]) == ["c", "a"]


def test_require_images_passes_when_all_are_present() -> None:
    require_images(FakeEngine(images=runtime_images("0.1.0")), runtime_images("0.1.0"))


@pytest.mark.parametrize(
    ("offline", "python_base", "toxiproxy_base", "variant"),
    [
        pytest.param(True, OFFLINE_PYTHON_BASE, OFFLINE_TOXIPROXY_BASE, "offline", id="offline"),
        pytest.param(False, PUBLIC_PYTHON_BASE, PUBLIC_TOXIPROXY_BASE, "online", id="online"),
    ],
)
def test_build_args_choose_the_base_images_of_the_variant(
    tmp_path: Path, offline: bool, python_base: str, toxiproxy_base: str, variant: str
) -> None:
    storefront = build_request("storefront", tmp_path, offline, "0.1.0")
    toxiproxy = build_request("toxiproxy", tmp_path, offline, "0.1.0")

    assert storefront.tag == "peakday/storefront:0.1.0"
    assert storefront.buildargs == {"BASE_IMAGE": python_base}
    assert toxiproxy.tag == "peakday/toxiproxy:0.1.0"
    assert toxiproxy.buildargs == {"BASE_IMAGE": toxiproxy_base}
    for request, component in ((storefront, "storefront"), (toxiproxy, "toxiproxy")):
        assert request.labels["org.peakday.managed"] == "true"
        assert request.labels["org.peakday.component"] == component
        assert request.labels["org.peakday.variant"] == variant
        assert request.labels["org.peakday.version"] == "0.1.0"


def test_peakday_image_copies_toxiproxy_and_prometheus_image_starts_from_python(
    tmp_path: Path,
) -> None:
    peakday = build_request("peakday", tmp_path, True, "0.1.0")
    prometheus = build_request("prometheus", tmp_path, False, "0.1.0")

    assert peakday == BuildRequest(
        tag="peakday/peakday:0.1.0",
        context_dir=tmp_path,
        dockerfile="Dockerfile.peakday",
        buildargs={"BASE_IMAGE": OFFLINE_PYTHON_BASE, "TOXIPROXY_IMAGE": OFFLINE_TOXIPROXY_BASE},
        labels={
            "org.peakday.managed": "true",
            "org.peakday.component": "peakday",
            "org.peakday.version": "0.1.0",
            "org.peakday.variant": "offline",
            "org.peakday.base-image": OFFLINE_PYTHON_BASE,
        },
    )
    assert prometheus.tag == "peakday/prometheus:0.1.0"
    assert prometheus.dockerfile == "Dockerfile"
    assert prometheus.buildargs == {"BASE_IMAGE": PUBLIC_PYTHON_BASE}
    assert prometheus.labels["org.peakday.component"] == "prometheus"
    assert prometheus.labels["org.peakday.base-image"] == PUBLIC_PYTHON_BASE


def test_dockerfile_defaults_are_the_public_base_images() -> None:
    storefront = (REPO_ROOT / "compose" / "Dockerfile.storefront").read_text()
    toxiproxy = (REPO_ROOT / "compose" / "Dockerfile.toxiproxy").read_text()
    peakday = (DOCKERFILE_DIR / "Dockerfile.peakday").read_text()

    assert f"ARG BASE_IMAGE={PUBLIC_PYTHON_BASE}\n" in storefront
    assert f"ARG BASE_IMAGE={PUBLIC_TOXIPROXY_BASE}\n" in toxiproxy
    assert f"ARG BASE_IMAGE={PUBLIC_PYTHON_BASE}\n" in peakday
    assert f"ARG TOXIPROXY_IMAGE={PUBLIC_TOXIPROXY_BASE}\n" in peakday


def test_compose_dockerfiles_are_the_packaged_ones() -> None:
    """compose/ links to the Dockerfiles the package carries: one copy, found without a checkout."""
    for name in ("Dockerfile.storefront", "Dockerfile.toxiproxy", "Dockerfile.prometheus"):
        assert (REPO_ROOT / "compose" / name).resolve() == (DOCKERFILE_DIR / name).resolve()


def test_offline_build_makes_missing_base_images_then_both_images(paths: BuildPaths) -> None:
    engine = FakeEngine()
    toolchain = FakeToolchain()

    report = build_images(True, engine=engine, toolchain=toolchain, paths=paths, version="0.1.0")

    assert [request.tag for request in engine.imports] == [
        OFFLINE_PYTHON_BASE,
        OFFLINE_TOXIPROXY_BASE,
    ]
    assert engine.imported_members[OFFLINE_TOXIPROXY_BASE] == ["toxiproxy"]
    assert 'LABEL org.peakday.managed="true"' in engine.imports[0].changes
    assert [(request.tag, request.buildargs["BASE_IMAGE"]) for request in engine.builds] == [
        ("peakday/storefront:0.1.0", OFFLINE_PYTHON_BASE),
        ("peakday/toxiproxy:0.1.0", OFFLINE_TOXIPROXY_BASE),
        ("peakday/peakday:0.1.0", OFFLINE_PYTHON_BASE),
    ]
    # peakday's own image: the storefront's context (same wheels) plus toxiproxy-server.
    assert engine.builds[2].context_dir == engine.builds[0].context_dir
    assert engine.builds[2].dockerfile == "Dockerfile.peakday"
    assert engine.builds[2].buildargs["TOXIPROXY_IMAGE"] == OFFLINE_TOXIPROXY_BASE
    assert engine.builds[2].labels["org.peakday.component"] == "peakday"
    assert [(step.name, step.outcome) for step in report.steps] == [
        ("python base", "imported"),
        ("toxiproxy release", "imported"),
        ("wheels", "built"),
        ("storefront image", "built"),
        ("toxiproxy image", "built"),
        ("peakday image", "built"),
    ]
    # The root filesystem tarballs are only needed for the import.
    assert not list(paths.work_dir.rglob("*.tar"))


def test_offline_build_reuses_base_images_that_exist(paths: BuildPaths) -> None:
    engine = FakeEngine(images=[OFFLINE_PYTHON_BASE, OFFLINE_TOXIPROXY_BASE])
    toolchain = FakeToolchain()

    report = build_images(True, engine=engine, toolchain=toolchain, paths=paths)

    assert toolchain.debian_bootstraps == 0
    assert toolchain.toxiproxy_builds == 0
    assert engine.imports == []
    assert [step.outcome for step in report.steps[:2]] == ["reused", "reused"]


def test_refresh_remakes_base_images_and_dependency_wheels(paths: BuildPaths) -> None:
    engine = FakeEngine(images=[OFFLINE_PYTHON_BASE, OFFLINE_TOXIPROXY_BASE])
    toolchain = FakeToolchain()
    build_images(True, engine=engine, toolchain=toolchain, paths=paths)

    build_images(True, engine=engine, toolchain=toolchain, paths=paths, refresh=True)

    assert toolchain.debian_bootstraps == 1
    assert toolchain.toxiproxy_builds == 1
    assert toolchain.wheel_builds.count(True) == 2


def test_online_build_without_a_public_base_fails_before_any_work(paths: BuildPaths) -> None:
    engine = FakeEngine(images=[PUBLIC_TOXIPROXY_BASE])
    toolchain = FakeToolchain()

    with pytest.raises(ImageMissing) as raised:
        build_images(False, engine=engine, toolchain=toolchain, paths=paths)

    message = str(raised.value)
    assert message.startswith(f"Base image {PUBLIC_PYTHON_BASE!r} is not present")
    assert f"'docker pull {PUBLIC_PYTHON_BASE}'" in message
    assert "'peakday images build --offline'" in message
    assert engine.builds == []
    assert toolchain.wheel_builds == []


def test_online_build_uses_public_bases_and_makes_no_local_ones(paths: BuildPaths) -> None:
    engine = FakeEngine(images=[PUBLIC_PYTHON_BASE, PUBLIC_TOXIPROXY_BASE])
    toolchain = FakeToolchain()

    report = build_images(False, engine=engine, toolchain=toolchain, paths=paths)

    assert engine.imports == []
    assert [request.buildargs["BASE_IMAGE"] for request in engine.builds] == [
        PUBLIC_PYTHON_BASE,
        PUBLIC_TOXIPROXY_BASE,
        PUBLIC_PYTHON_BASE,
    ]
    assert engine.builds[2].buildargs["TOXIPROXY_IMAGE"] == PUBLIC_TOXIPROXY_BASE
    assert report.variant == "online"


def test_dependency_wheels_are_cached_while_pyproject_is_unchanged(paths: BuildPaths) -> None:
    engine = FakeEngine(images=[OFFLINE_PYTHON_BASE, OFFLINE_TOXIPROXY_BASE])
    toolchain = FakeToolchain()

    first = build_images(True, engine=engine, toolchain=toolchain, paths=paths)
    second = build_images(True, engine=engine, toolchain=toolchain, paths=paths)
    assert paths.project_dir is not None
    (paths.project_dir / "pyproject.toml").write_text(
        '[project]\nname = "peakday"\ndependencies = ["httpx"]\n'
    )
    third = build_images(True, engine=engine, toolchain=toolchain, paths=paths)

    # Dependencies: built, reused, rebuilt; the project wheel is built every time.
    assert toolchain.wheel_builds == [True, False, False, True, False]
    assert [report.steps[2].outcome for report in (first, second, third)] == [
        "built",
        "reused",
        "built",
    ]
    assert len(list(paths.wheel_cache_dir.iterdir())) == 1


def test_context_separates_dependency_wheels_from_the_project_wheel(paths: BuildPaths) -> None:
    engine = FakeEngine(images=[OFFLINE_PYTHON_BASE, OFFLINE_TOXIPROXY_BASE])

    build_images(True, engine=engine, toolchain=FakeToolchain(), paths=paths)

    context = engine.builds[0].context_dir
    assert (context / "Dockerfile").read_text() == "FROM ${BASE_IMAGE}\n"
    assert sorted(p.name for p in (context / "wheels" / "deps").iterdir()) == [
        "fastapi-0.110.0-py3-none-any.whl"
    ]
    assert sorted(p.name for p in (context / "wheels" / "app").iterdir()) == [
        "peakday-0.1.0-py3-none-any.whl"
    ]


PYPROJECT = b"""
[build-system]
requires = ["setuptools>=68"]

[project]
name = "peakday"
version = "0.1.0"
dependencies = ["fastapi>=0.110"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""


@pytest.mark.parametrize(
    ("edited", "same_key"),
    [
        pytest.param(PYPROJECT, True, id="unchanged"),
        pytest.param(PYPROJECT.replace(b'"tests"', b'"tests", "more"'), True, id="tool-settings"),
        pytest.param(PYPROJECT.replace(b'"0.1.0"', b'"0.2.0"'), True, id="project-version"),
        pytest.param(PYPROJECT.replace(b"0.110", b"0.111"), False, id="dependency"),
        pytest.param(PYPROJECT.replace(b">=68", b">=70"), False, id="build-system"),
        pytest.param(b"not [ toml", False, id="unparsable"),
    ],
)
def test_wheel_cache_key_follows_the_dependencies(edited: bytes, same_key: bool) -> None:
    key = wheel_cache_key(PYPROJECT, "cp311-linux_x86_64")

    assert (wheel_cache_key(edited, "cp311-linux_x86_64") == key) is same_key


def test_wheel_cache_key_changes_with_the_interpreter() -> None:
    key = wheel_cache_key(PYPROJECT, "cp311-linux_x86_64")

    assert key.startswith("cp311-linux_x86_64-")
    assert key != wheel_cache_key(PYPROJECT, "cp311-linux_aarch64")


def test_wheels_from_another_python_version_are_refused(paths: BuildPaths) -> None:
    engine = FakeEngine(images=[OFFLINE_PYTHON_BASE, OFFLINE_TOXIPROXY_BASE])

    with pytest.raises(EnvironmentProblem, match=r"tagged 'cp312-linux_x86_64'.*CPython 3\.11"):
        build_images(
            True, engine=engine, toolchain=FakeToolchain("cp312-linux_x86_64"), paths=paths
        )


def test_a_dynamically_linked_toxiproxy_binary_is_refused(paths: BuildPaths) -> None:
    engine = FakeEngine(images=[OFFLINE_PYTHON_BASE])

    with pytest.raises(EnvironmentProblem, match="is not a static executable"):
        build_images(True, engine=engine, toolchain=FakeToolchain(static=False), paths=paths)

    assert engine.imports == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(elf_executable(with_interpreter=False), True, id="static"),
        pytest.param(elf_executable(with_interpreter=True), False, id="dynamic"),
        pytest.param(b"#!/bin/sh\n" + bytes(100), False, id="not-elf"),
        pytest.param(b"\x7fELF", False, id="truncated"),
    ],
)
def test_is_static_elf(data: bytes, expected: bool) -> None:
    assert is_static_elf(data) is expected


def test_find_project_dir_walks_up_to_the_checkout(paths: BuildPaths) -> None:
    assert paths.project_dir is not None
    nested = paths.project_dir / "src" / "peakday"

    assert find_project_dir(nested) == paths.project_dir
    assert locate_build_paths(nested, {}) == BuildPaths.for_project(paths.project_dir)


def test_outside_a_checkout_builds_from_the_installed_package_in_the_user_cache(
    tmp_path: Path,
) -> None:
    located = locate_build_paths(tmp_path, {"XDG_CACHE_HOME": str(tmp_path / "cache")})

    assert located.project_dir is None
    assert located.work_dir == tmp_path / "cache" / "peakday" / "images"
    assert (located.dockerfile_dir / "Dockerfile.storefront").is_file()
    assert (located.dockerfile_dir / "Dockerfile.peakday").is_file()


def test_find_project_dir_outside_a_checkout_says_where_to_run(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="from inside a clone of the peakday repository"):
        find_project_dir(tmp_path)


def test_label_changes_are_docker_import_instructions() -> None:
    assert label_changes({"b": "2", "a": "x y"}) == ('LABEL a="x y"', 'LABEL b="2"')


def test_format_build_report_shows_each_step_and_the_total() -> None:
    report = BuildReport(
        "offline",
        (
            BuildStep("python base", OFFLINE_PYTHON_BASE, "reused", 0.0),
            BuildStep("storefront image", "peakday/storefront:0.1.0", "built", 2.5, 276_000_000),
        ),
    )

    text = format_build_report(report)

    assert text.splitlines()[0] == "peakday images (offline):"
    assert "peakday/python-base:bookworm" in text
    assert "276 MB" in text
    assert text.splitlines()[-1] == "  total 2.5 s"


def test_the_prometheus_image_is_this_machine_s_binary_on_the_python_base(
    paths: BuildPaths, tmp_path: Path
) -> None:
    binary = tmp_path / "prometheus"
    binary.write_bytes(b"\x7fELF the server")
    engine = FakeEngine(images=[OFFLINE_PYTHON_BASE, OFFLINE_TOXIPROXY_BASE])

    report = build_images(
        True, engine=engine, toolchain=FakeToolchain(), paths=paths, prometheus_binary=binary
    )

    *_, request = engine.builds
    assert request.tag == "peakday/prometheus:0.1.0"
    assert request.buildargs == {"BASE_IMAGE": OFFLINE_PYTHON_BASE}
    assert request.labels["org.peakday.component"] == "prometheus"
    assert (request.context_dir / "prometheus").read_bytes() == b"\x7fELF the server"
    assert report.steps[-1].name == "prometheus image"
    # without the binary (no Debian prometheus here) the other images are still built
    engine.builds.clear()
    build_images(True, engine=engine, toolchain=FakeToolchain(), paths=paths)
    assert [r.tag for r in engine.builds] == [
        "peakday/storefront:0.1.0",
        "peakday/toxiproxy:0.1.0",
        "peakday/peakday:0.1.0",
    ]


def test_the_prometheus_dockerfile_copies_the_binary_onto_the_public_python_base() -> None:
    dockerfile = (DOCKERFILE_DIR / "Dockerfile.prometheus").read_text()
    assert f"ARG BASE_IMAGE={PUBLIC_PYTHON_BASE}\n" in dockerfile
    assert "COPY prometheus /usr/local/bin/prometheus" in dockerfile
