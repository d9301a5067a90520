"""Builds peakday's container images (storefront, Toxiproxy, and peakday itself for CI jobs) and
checks that the runtime ones exist before a run.

Online builds start from the public base images (python:3.11-slim, ghcr.io/shopify/toxiproxy),
which must already be present locally: peakday never pulls. Offline builds first make local
stand-ins for both from sources this machine can reach: a Debian root filesystem made with
mmdebstrap, and toxiproxy-server built with `go install`. All then build the same Dockerfiles
(shipped in the package, peakday/images/dockerfiles/), with BASE_IMAGE pointing at the chosen base.

Host-side steps (mmdebstrap, go, pip wheel) sit behind `HostToolchain`, engine calls behind
`ImageEngine`, so the sequencing is tested with fakes.
"""

from __future__ import annotations

import logging
import struct
import tarfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from peakday import __version__
from peakday.errors import EnvironmentProblem, ImageMissing
from peakday.images.build_contexts import (
    PEAKDAY_DOCKERFILE,
    BuildPaths,
    prepare_prometheus_context,
    prepare_storefront_context,
    prepare_toxiproxy_context,
)
from peakday.images.engine import BuildRequest, ImageEngine, ImportRequest
from peakday.images.host_toolchain import HostToolchain
from peakday.processes.tools import TOXIPROXY_VERSION

logger = logging.getLogger(__name__)

STOREFRONT_REPOSITORY = "peakday/storefront"
TOXIPROXY_REPOSITORY = "peakday/toxiproxy"
PROMETHEUS_REPOSITORY = "peakday/prometheus"
PEAKDAY_REPOSITORY = "peakday/peakday"

PUBLIC_PYTHON_BASE = "python:3.11-slim"
PUBLIC_TOXIPROXY_BASE = f"ghcr.io/shopify/toxiproxy:{TOXIPROXY_VERSION}"
# Local stand-ins for the two public bases, with the same layout: python3 on PATH, /toxiproxy.
OFFLINE_PYTHON_BASE = "peakday/python-base:bookworm"
OFFLINE_TOXIPROXY_BASE = f"peakday/toxiproxy-release:{TOXIPROXY_VERSION}"

BUILD_COMMAND_OFFLINE = "peakday images build --offline"
BUILD_COMMAND_ONLINE = "peakday images build"

LABEL_PREFIX = "org.peakday"
MANAGED_LABEL = f"{LABEL_PREFIX}.managed"

DEBIAN_SUITE = "bookworm"
DEBIAN_SOURCES = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)


Variant = Literal["offline", "online"]
StepOutcome = Literal["built", "reused", "imported"]
Component = Literal["storefront", "toxiproxy", "prometheus", "peakday"]
BaseKind = Literal["python", "toxiproxy"]


# ---------------------------------------------------------------------------------------------
# Names, labels and build requests (pure)


@dataclass(frozen=True)
class BaseImages:
    python: str
    toxiproxy: str

    def of(self, kind: BaseKind) -> str:
        return self.python if kind == "python" else self.toxiproxy


def base_images(offline: bool) -> BaseImages:
    if offline:
        return BaseImages(python=OFFLINE_PYTHON_BASE, toxiproxy=OFFLINE_TOXIPROXY_BASE)
    return BaseImages(python=PUBLIC_PYTHON_BASE, toxiproxy=PUBLIC_TOXIPROXY_BASE)


def storefront_image(version: str = __version__) -> str:
    return f"{STOREFRONT_REPOSITORY}:{version}"


def toxiproxy_image(version: str = __version__) -> str:
    return f"{TOXIPROXY_REPOSITORY}:{version}"


def prometheus_image(version: str = __version__) -> str:
    """Debian's prometheus binary on the Python base (`monitoring: prometheus` on docker)."""
    return f"{PROMETHEUS_REPOSITORY}:{version}"


def peakday_image(version: str = __version__) -> str:
    """peakday itself with Locust and toxiproxy-server, for CI jobs that run in a container."""
    return f"{PEAKDAY_REPOSITORY}:{version}"


def runtime_images(version: str = __version__) -> tuple[str, str]:
    """The images a Docker run of this peakday version starts containers from."""
    return storefront_image(version), toxiproxy_image(version)


def variant_of(offline: bool) -> Variant:
    return "offline" if offline else "online"


def image_labels(component: str, version: str, offline: bool, base_image: str) -> dict[str, str]:
    """Labels on every image peakday makes, so `docker images --filter label=...` finds them."""
    return {
        MANAGED_LABEL: "true",
        f"{LABEL_PREFIX}.component": component,
        f"{LABEL_PREFIX}.version": version,
        f"{LABEL_PREFIX}.variant": variant_of(offline),
        f"{LABEL_PREFIX}.base-image": base_image,
    }


@dataclass(frozen=True)
class ImageRecipe:
    """How one of peakday's images is built: its repository, the base image it starts FROM and
    its Dockerfile in the build context."""

    repository: str
    base: BaseKind
    dockerfile: str = "Dockerfile"
    # Also given TOXIPROXY_IMAGE, the Toxiproxy base its toxiproxy-server is copied from.
    copies_toxiproxy: bool = False


IMAGE_RECIPES: Mapping[Component, ImageRecipe] = MappingProxyType(
    {
        "storefront": ImageRecipe(STOREFRONT_REPOSITORY, "python"),
        "toxiproxy": ImageRecipe(TOXIPROXY_REPOSITORY, "toxiproxy"),
        # Debian's prometheus binary links against the Python base's C library.
        "prometheus": ImageRecipe(PROMETHEUS_REPOSITORY, "python"),
        # Built from the storefront's context (same wheels), with toxiproxy-server copied in.
        "peakday": ImageRecipe(
            PEAKDAY_REPOSITORY, "python", dockerfile=PEAKDAY_DOCKERFILE, copies_toxiproxy=True
        ),
    }
)


def build_request(
    component: Component, context_dir: Path, offline: bool, version: str
) -> BuildRequest:
    """The `docker build` of `component`'s image from `context_dir`, on the variant's base."""
    recipe = IMAGE_RECIPES[component]
    bases = base_images(offline)
    base = bases.of(recipe.base)
    buildargs = {"BASE_IMAGE": base}
    if recipe.copies_toxiproxy:
        buildargs["TOXIPROXY_IMAGE"] = bases.toxiproxy
    return BuildRequest(
        tag=f"{recipe.repository}:{version}",
        context_dir=context_dir,
        dockerfile=recipe.dockerfile,
        buildargs=buildargs,
        labels=image_labels(component, version, offline, base),
    )


def label_changes(labels: Mapping[str, str]) -> tuple[str, ...]:
    """`docker import --change` instructions that set `labels`."""
    return tuple(f'LABEL {key}="{value}"' for key, value in sorted(labels.items()))


def is_static_elf(data: bytes) -> bool:
    """True for an ELF executable with no program interpreter (runs in a FROM scratch image)."""
    if len(data) < 64 or data[:4] != b"\x7fELF":
        return False
    is_64_bit = data[4] == 2
    endian = "<" if data[5] == 1 else ">"
    if is_64_bit:
        (phoff,) = struct.unpack_from(endian + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x36)
    else:
        (phoff,) = struct.unpack_from(endian + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x2A)
    pt_interp = 3
    for index in range(phnum):
        offset = phoff + index * phentsize
        if offset + 4 > len(data):
            return False
        (p_type,) = struct.unpack_from(endian + "I", data, offset)
        if p_type == pt_interp:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Presence checks, for `peakday run` before it starts containers


def missing_images(engine: ImageEngine, names: Iterable[str]) -> list[str]:
    """The references among `names` that the local engine does not have, in the given order."""
    return [name for name in names if not engine.has_image(name)]


def format_missing_runtime_images(missing: Sequence[str]) -> str:
    quoted = " and ".join(repr(name) for name in missing)
    subject = f"Image {quoted} is" if len(missing) == 1 else f"Images {quoted} are"
    return (
        f"{subject} not present in the local Docker engine, and peakday never pulls images. "
        f"Hint: build them with '{BUILD_COMMAND_OFFLINE}' (from Debian packages and Go sources, "
        f"no registry needed), or '{BUILD_COMMAND_ONLINE}' if {PUBLIC_PYTHON_BASE!r} and "
        f"{PUBLIC_TOXIPROXY_BASE!r} are present locally."
    )


def require_images(engine: ImageEngine, names: Iterable[str]) -> None:
    """Raise ImageMissing (exit 3) naming every absent image and the command that builds it."""
    missing = missing_images(engine, names)
    if missing:
        raise ImageMissing(format_missing_runtime_images(missing))


def format_missing_base_image(reference: str) -> str:
    return (
        f"Base image {reference!r} is not present in the local Docker engine, and peakday builds "
        f"never pull. Hint: fetch it yourself ('docker pull {reference}') if you have a "
        f"registry, or build without one: '{BUILD_COMMAND_OFFLINE}'."
    )


# ---------------------------------------------------------------------------------------------
# Building


def find_checkout(start: Path) -> Path | None:
    """The peakday checkout at or above `start`, if any."""
    for candidate in (start, *start.parents):
        if (candidate / "pyproject.toml").is_file() and (
            candidate / "src" / "peakday" / "images" / "dockerfiles" / "Dockerfile.storefront"
        ).is_file():
            return candidate
    return None


def locate_build_paths(start: Path, environ: Mapping[str, str]) -> BuildPaths:
    """Build from the checkout at or above `start` (its source, its .tools/images cache), else
    from the installed package (repacked, with the per-user cache)."""
    checkout = find_checkout(start)
    if checkout is not None:
        return BuildPaths.for_project(checkout)
    return BuildPaths.for_installed(environ)


def find_project_dir(start: Path) -> Path:
    """The peakday checkout at or above `start`, or EnvironmentProblem."""
    checkout = find_checkout(start)
    if checkout is not None:
        return checkout
    raise EnvironmentProblem(
        f"No peakday source checkout was found at or above {str(start)!r}; building images needs "
        "its src/peakday/images/dockerfiles and pyproject.toml. Hint: run "
        f"'{BUILD_COMMAND_OFFLINE}' from inside a clone of the peakday repository."
    )


@dataclass(frozen=True)
class BuildStep:
    name: str
    reference: str
    outcome: StepOutcome
    seconds: float
    size_bytes: int | None = None


@dataclass(frozen=True)
class BuildReport:
    variant: Variant
    steps: tuple[BuildStep, ...]

    @property
    def total_seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


def format_build_report(report: BuildReport) -> str:
    lines = [f"peakday images ({report.variant}):"]
    for step in report.steps:
        size = f"  {step.size_bytes / 1e6:.0f} MB" if step.size_bytes is not None else ""
        lines.append(
            f"  {step.name:<18} {step.reference:<40} {step.outcome:<8} {step.seconds:6.1f} s{size}"
        )
    lines.append(f"  total {report.total_seconds:.1f} s")
    return "\n".join(lines)


def build_images(
    offline: bool,
    *,
    engine: ImageEngine,
    toolchain: HostToolchain,
    paths: BuildPaths,
    version: str = __version__,
    refresh: bool = False,
    debian_sources: Sequence[str] = DEBIAN_SOURCES,
    clock: Callable[[], float] = time.monotonic,
    prometheus_binary: Path | None = None,
) -> BuildReport:
    """Build `peakday/storefront:<version>`, `peakday/toxiproxy:<version>` and
    `peakday/peakday:<version>`, and `peakday/prometheus:<version>` from `prometheus_binary` when
    given; never pull.

    Offline, the local base images are made first unless they exist (`refresh` remakes them and
    the dependency wheels). Online, the public base images must already be present.
    Raises ImageMissing for an absent base image, EnvironmentProblem when a tool fails.
    """
    bases = base_images(offline)
    steps: list[BuildStep] = []
    if offline:
        steps.append(
            _ensure_base(
                engine,
                "python base",
                OFFLINE_PYTHON_BASE,
                refresh,
                clock,
                lambda: _python_base_root(toolchain, paths, debian_sources),
            )
        )
        steps.append(
            _ensure_base(
                engine,
                "toxiproxy release",
                OFFLINE_TOXIPROXY_BASE,
                refresh,
                clock,
                lambda: _toxiproxy_release_root(toolchain, paths, refresh),
            )
        )
    for base in (bases.python, bases.toxiproxy):
        if not engine.has_image(base):
            raise ImageMissing(format_missing_base_image(base))

    started = clock()
    storefront_context, wheel_key, reused_wheels = prepare_storefront_context(
        toolchain, paths, refresh
    )
    steps.append(
        BuildStep("wheels", wheel_key, "reused" if reused_wheels else "built", clock() - started)
    )
    toxiproxy_context = prepare_toxiproxy_context(paths)
    requests = [
        ("storefront image", build_request("storefront", storefront_context, offline, version)),
        ("toxiproxy image", build_request("toxiproxy", toxiproxy_context, offline, version)),
        ("peakday image", build_request("peakday", storefront_context, offline, version)),
    ]
    for name, request in requests:
        steps.append(_build_step(engine, name, request, clock))
    if prometheus_binary is not None:
        steps.append(
            build_prometheus_image(offline, prometheus_binary, engine, paths, version, clock)
        )
    return BuildReport(variant_of(offline), tuple(steps))


def build_prometheus_image(
    offline: bool,
    binary: Path,
    engine: ImageEngine,
    paths: BuildPaths,
    version: str = __version__,
    clock: Callable[[], float] = time.monotonic,
) -> BuildStep:
    """`peakday/prometheus:<version>`: this machine's (Debian's) prometheus binary on the Python
    base, which has the C library it links against; never pulled."""
    base = base_images(offline).python
    if not engine.has_image(base):
        raise ImageMissing(format_missing_base_image(base))
    context = prepare_prometheus_context(paths, binary)
    return _build_step(
        engine, "prometheus image", build_request("prometheus", context, offline, version), clock
    )


def _build_step(
    engine: ImageEngine, name: str, request: BuildRequest, clock: Callable[[], float]
) -> BuildStep:
    started = clock()
    logger.info("Building %s from %s", request.tag, request.context_dir)
    engine.build(request)
    return BuildStep(
        name,
        request.tag,
        "built",
        clock() - started,
        size_bytes=engine.image_size_bytes(request.tag),
    )


def _ensure_base(
    engine: ImageEngine,
    name: str,
    reference: str,
    refresh: bool,
    clock: Callable[[], float],
    make_root_filesystem: Callable[[], ImportRequest],
) -> BuildStep:
    """Reuse the local base image `reference` (unless `refresh`), else make its root filesystem
    and `docker import` it; the tarball goes, imported or not."""
    started = clock()
    if not refresh and engine.has_image(reference):
        return BuildStep(name, reference, "reused", clock() - started)
    request = make_root_filesystem()
    try:
        engine.import_tarball(request)
    finally:
        request.tarball.unlink(missing_ok=True)
    return BuildStep(
        name,
        reference,
        "imported",
        clock() - started,
        size_bytes=engine.image_size_bytes(reference),
    )


def _python_base_root(
    toolchain: HostToolchain, paths: BuildPaths, debian_sources: Sequence[str]
) -> ImportRequest:
    """Debian's python3 from its packages, as OFFLINE_PYTHON_BASE."""
    tarball = paths.work_dir / "python-base" / "rootfs.tar"
    logger.info(
        "Making %s from Debian %s packages (about a minute)", OFFLINE_PYTHON_BASE, DEBIAN_SUITE
    )
    toolchain.bootstrap_debian(tarball, suite=DEBIAN_SUITE, sources=debian_sources)
    changes = (
        *label_changes(image_labels("python-base", DEBIAN_SUITE, True, "scratch")),
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        'CMD ["python3"]',
    )
    return ImportRequest(OFFLINE_PYTHON_BASE, tarball, changes)


def _toxiproxy_release_root(
    toolchain: HostToolchain, paths: BuildPaths, refresh: bool
) -> ImportRequest:
    """toxiproxy-server built with Go, alone in the image, as OFFLINE_TOXIPROXY_BASE."""
    release_dir = paths.work_dir / f"toxiproxy-{TOXIPROXY_VERSION}"
    binary = release_dir / "toxiproxy-server"
    if refresh or not binary.is_file():
        release_dir.mkdir(parents=True, exist_ok=True)
        toolchain.build_toxiproxy(binary, version=TOXIPROXY_VERSION)
    if not is_static_elf(binary.read_bytes()):
        raise EnvironmentProblem(
            f"{str(binary)!r} is not a static executable, so it cannot run in a FROM scratch "
            "image. Hint: delete it and re-run; the build sets CGO_ENABLED=0."
        )
    # Same layout as the public image: the server at /toxiproxy.
    tarball = release_dir / "release.tar"
    with tarfile.open(tarball, "w") as archive:
        info = archive.gettarinfo(str(binary), arcname="toxiproxy")
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode = 0o755
        with binary.open("rb") as handle:
            archive.addfile(info, handle)
    changes = (
        *label_changes(image_labels("toxiproxy-release", TOXIPROXY_VERSION, True, "scratch")),
        'ENTRYPOINT ["/toxiproxy"]',
        'CMD ["-host=0.0.0.0"]',
        "EXPOSE 8474",
    )
    return ImportRequest(OFFLINE_TOXIPROXY_BASE, tarball, changes)
