"""Builds peakday's two container images (storefront, Toxiproxy) and checks they exist before a run.

Online builds start from the public base images (python:3.11-slim, ghcr.io/shopify/toxiproxy),
which must already be present locally: peakday never pulls. Offline builds first make local
stand-ins for both from sources this machine can reach: a Debian root filesystem made with
mmdebstrap, and toxiproxy-server built with `go install`. Both then build the same Dockerfiles
in compose/, with BASE_IMAGE pointing at the chosen base.

Host-side steps (mmdebstrap, go, pip wheel) sit behind `HostToolchain`, engine calls behind
`ImageEngine`, so the sequencing is tested with fakes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import shutil
import struct
import subprocess
import tarfile
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from peakday import __version__
from peakday.errors import EnvironmentProblem, ImageMissing
from peakday.platforms.docker_client import BuildRequest, ImageEngine, ImportRequest
from peakday.platforms.tools import TOXIPROXY_VERSION
from peakday.platforms.waiting import tail

logger = logging.getLogger(__name__)

STOREFRONT_REPOSITORY = "peakday/storefront"
TOXIPROXY_REPOSITORY = "peakday/toxiproxy"

PUBLIC_PYTHON_BASE = "python:3.11-slim"
PUBLIC_TOXIPROXY_BASE = f"ghcr.io/shopify/toxiproxy:{TOXIPROXY_VERSION}"
# Local stand-ins for the two public bases, with the same layout: python3 on PATH, /toxiproxy.
OFFLINE_PYTHON_BASE = "peakday/python-base:bookworm"
OFFLINE_TOXIPROXY_BASE = f"peakday/toxiproxy-release:{TOXIPROXY_VERSION}"

BUILD_COMMAND_OFFLINE = "peakday images build --offline"
BUILD_COMMAND_ONLINE = "peakday images build"

LABEL_PREFIX = "org.peakday"
MANAGED_LABEL = f"{LABEL_PREFIX}.managed"

# Wheels are built on the host for the image's interpreter: bookworm's python3 is CPython 3.11.
IMAGE_PYTHON_TAG = "cp311"
DEBIAN_SUITE = "bookworm"
DEBIAN_SOURCES = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
# python3-venv brings ensurepip's bundled pip, so no python3-pip; passwd provides useradd.
PYTHON_BASE_PACKAGES = ("python3", "python3-venv", "passwd")
TOXIPROXY_MODULE = "github.com/Shopify/toxiproxy/v2"

PROJECT_WHEEL_PREFIX = "peakday-"
_SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01: wheel bytes depend on content only, for layer cache

Variant = Literal["offline", "online"]
StepOutcome = Literal["built", "reused", "imported"]


# ---------------------------------------------------------------------------------------------
# Names, labels and build requests (pure)


@dataclass(frozen=True)
class BaseImages:
    python: str
    toxiproxy: str


def base_images(offline: bool) -> BaseImages:
    if offline:
        return BaseImages(python=OFFLINE_PYTHON_BASE, toxiproxy=OFFLINE_TOXIPROXY_BASE)
    return BaseImages(python=PUBLIC_PYTHON_BASE, toxiproxy=PUBLIC_TOXIPROXY_BASE)


def storefront_image(version: str = __version__) -> str:
    return f"{STOREFRONT_REPOSITORY}:{version}"


def toxiproxy_image(version: str = __version__) -> str:
    return f"{TOXIPROXY_REPOSITORY}:{version}"


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


def storefront_build_request(context_dir: Path, offline: bool, version: str) -> BuildRequest:
    base = base_images(offline).python
    return BuildRequest(
        tag=storefront_image(version),
        context_dir=context_dir,
        dockerfile="Dockerfile",
        buildargs={"BASE_IMAGE": base},
        labels=image_labels("storefront", version, offline, base),
    )


def toxiproxy_build_request(context_dir: Path, offline: bool, version: str) -> BuildRequest:
    base = base_images(offline).toxiproxy
    return BuildRequest(
        tag=toxiproxy_image(version),
        context_dir=context_dir,
        dockerfile="Dockerfile",
        buildargs={"BASE_IMAGE": base},
        labels=image_labels("toxiproxy", version, offline, base),
    )


def label_changes(labels: Mapping[str, str]) -> tuple[str, ...]:
    """`docker import --change` instructions that set `labels`."""
    return tuple(f'LABEL {key}="{value}"' for key, value in sorted(labels.items()))


def dependency_inputs(pyproject: bytes) -> bytes:
    """The parts of pyproject.toml that decide the dependency wheels, in a canonical form.

    Edits elsewhere (tool settings, version, scripts) keep the cached wheels.
    """
    try:
        data = tomllib.loads(pyproject.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return pyproject
    project = data.get("project", {})
    relevant = {
        "dependencies": project.get("dependencies", []),
        "requires-python": project.get("requires-python"),
        "build-system": data.get("build-system", {}),
    }
    return json.dumps(relevant, sort_keys=True).encode()


def wheel_cache_key(pyproject: bytes, interpreter_tag: str) -> str:
    """Dependency wheels are reused while the dependencies and the building interpreter stay.

    `interpreter_tag` is e.g. 'cp311-linux_x86_64': a wheel built from an sdist by another
    interpreter or on another platform would not install in the image.
    """
    digest = hashlib.sha256()
    digest.update(interpreter_tag.encode())
    digest.update(b"\0")
    digest.update(dependency_inputs(pyproject))
    return f"{interpreter_tag}-{digest.hexdigest()[:16]}"


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
# Host-side tools


class HostToolchain(Protocol):
    """The programs run on the host to make what the image builds need."""

    def interpreter_tag(self) -> str:
        """e.g. 'cp311-linux_x86_64' for the Python that builds the wheels."""
        ...

    def build_wheels(self, project_dir: Path, wheel_dir: Path, *, with_dependencies: bool) -> None:
        """`pip wheel` the project (and, if asked, every dependency) into `wheel_dir`."""
        ...

    def bootstrap_debian(self, out_tarball: Path, *, suite: str, sources: Sequence[str]) -> None:
        """Write a minimal Debian root filesystem with PYTHON_BASE_PACKAGES as a tarball."""
        ...

    def build_toxiproxy(self, out_binary: Path, *, version: str) -> None:
        """Build a static toxiproxy-server of `version`."""
        ...


class SubprocessToolchain:
    """HostToolchain running pip, mmdebstrap and go; each step's output goes to a log file."""

    def __init__(
        self,
        log_dir: Path,
        *,
        python: str,
        mmdebstrap: str = "mmdebstrap",
        go: str = "go",
        use_build_isolation: bool = True,
    ) -> None:
        self._log_dir = log_dir
        self._python = python
        self._mmdebstrap = mmdebstrap
        self._go = go
        self._use_build_isolation = use_build_isolation

    def interpreter_tag(self) -> str:
        script = (
            "import sys, sysconfig; v = sys.version_info; "
            "platform = sysconfig.get_platform().replace('-', '_').replace('.', '_'); "
            "print(f'cp{v[0]}{v[1]}-{platform}')"
        )
        completed = subprocess.run(
            [self._python, "-c", script],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise EnvironmentProblem(
                f"Cannot run the Python that builds wheels ({self._python!r}): "
                f"{completed.stderr.strip()}"
            )
        return completed.stdout.strip()

    def build_wheels(self, project_dir: Path, wheel_dir: Path, *, with_dependencies: bool) -> None:
        argv = [self._python, "-m", "pip", "wheel", "--disable-pip-version-check"]
        argv += ["--wheel-dir", str(wheel_dir)]
        if not with_dependencies:
            argv.append("--no-deps")
        if not self._use_build_isolation:
            argv.append("--no-build-isolation")
        argv.append(str(project_dir))
        _run_logged(
            argv,
            log_path=self._log_dir / ("wheels-deps.log" if with_dependencies else "wheel-app.log"),
            what="Building wheels with pip",
            hint="pip needs PyPI to fetch dependencies the first time; later builds reuse the "
            "wheel cache while pyproject.toml is unchanged.",
            env={**os.environ, "SOURCE_DATE_EPOCH": _SOURCE_DATE_EPOCH},
            timeout_s=1800,
        )

    def bootstrap_debian(self, out_tarball: Path, *, suite: str, sources: Sequence[str]) -> None:
        out_tarball.parent.mkdir(parents=True, exist_ok=True)
        argv = [
            self._mmdebstrap,
            "--variant=minbase",
            "--format=tar",
            f"--include={','.join(PYTHON_BASE_PACKAGES)}",
            # Manuals, docs and translations are a third of a minimal system and unused here.
            "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/doc/*",
            "--dpkgopt=path-include=/usr/share/doc/*/copyright",
            "--dpkgopt=path-exclude=/usr/share/locale/*",
            suite,
            str(out_tarball),
            *sources,
        ]
        _run_logged(
            argv,
            log_path=self._log_dir / "mmdebstrap.log",
            what="Making the Debian root filesystem with mmdebstrap",
            hint="install it with 'apt-get install mmdebstrap'; it needs a Debian mirror and "
            "either root or unprivileged user namespaces.",
            timeout_s=1800,
        )

    def build_toxiproxy(self, out_binary: Path, *, version: str) -> None:
        gobin = out_binary.parent / "gobin"
        shutil.rmtree(gobin, ignore_errors=True)
        gobin.mkdir(parents=True)
        argv = [
            self._go,
            "install",
            "-trimpath",
            "-ldflags",
            f"-s -w -X {TOXIPROXY_MODULE}.Version={version}",
            f"{TOXIPROXY_MODULE}/cmd/server@v{version}",
        ]
        _run_logged(
            argv,
            log_path=self._log_dir / "go-install-toxiproxy.log",
            what="Building toxiproxy-server with go install",
            hint="install Go 1.22 or newer; the Go module proxy must be reachable the first time.",
            # CGO off: the binary must be static to run in a FROM scratch image.
            env={**os.environ, "CGO_ENABLED": "0", "GOBIN": str(gobin)},
            cwd=gobin,
            timeout_s=1800,
        )
        (gobin / "server").replace(out_binary)
        shutil.rmtree(gobin, ignore_errors=True)


def default_toolchain(log_dir: Path, python: str) -> SubprocessToolchain:
    """Skip pip's build isolation when setuptools is importable, so the project wheel builds
    without PyPI."""
    probe = subprocess.run(
        [python, "-c", "import setuptools"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    return SubprocessToolchain(log_dir, python=python, use_build_isolation=probe.returncode != 0)


def _run_logged(
    argv: Sequence[str],
    *,
    log_path: Path,
    what: str,
    hint: str,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    logger.info("%s: %s (log: %s)", what, shlex.join(argv), log_path)
    try:
        with log_path.open("wb") as log:
            completed = subprocess.run(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                timeout=timeout_s,
                check=False,
            )
    except FileNotFoundError as error:
        raise EnvironmentProblem(
            f"{what} failed: {argv[0]!r} was not found. Hint: {hint}"
        ) from error
    except subprocess.TimeoutExpired as error:
        raise EnvironmentProblem(
            f"{what} did not finish within {timeout_s:.0f} s: {shlex.join(argv)}\n"
            f"Last output:\n{tail(str(log_path))}\nHint: {hint}"
        ) from error
    if completed.returncode != 0:
        raise EnvironmentProblem(
            f"{what} failed with exit code {completed.returncode}: {shlex.join(argv)}\n"
            f"Last output ({log_path}):\n{tail(str(log_path))}\nHint: {hint}"
        )


# ---------------------------------------------------------------------------------------------
# Building


@dataclass(frozen=True)
class BuildPaths:
    project_dir: Path  # a peakday checkout: pyproject.toml, src/, compose/
    work_dir: Path  # build contexts, caches and logs

    @classmethod
    def for_project(cls, project_dir: Path) -> BuildPaths:
        return cls(project_dir=project_dir, work_dir=project_dir / ".tools" / "images")

    @property
    def compose_dir(self) -> Path:
        return self.project_dir / "compose"

    @property
    def wheel_cache_dir(self) -> Path:
        return self.work_dir / "wheels"

    @property
    def log_dir(self) -> Path:
        return self.work_dir / "logs"


def find_project_dir(start: Path) -> Path:
    """The peakday checkout at or above `start` (the Dockerfiles are not installed with the
    package)."""
    for candidate in (start, *start.parents):
        if (candidate / "pyproject.toml").is_file() and (
            candidate / "compose" / "Dockerfile.storefront"
        ).is_file():
            return candidate
    raise EnvironmentProblem(
        f"No peakday source checkout was found at or above {str(start)!r}; building images needs "
        "its compose/Dockerfile.storefront and pyproject.toml. Hint: run "
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
) -> BuildReport:
    """Build `peakday/storefront:<version>` and `peakday/toxiproxy:<version>`; never pull.

    Offline, the local base images are made first unless they exist (`refresh` remakes them and
    the dependency wheels). Online, the public base images must already be present.
    Raises ImageMissing for an absent base image, EnvironmentProblem when a tool fails.
    """
    bases = base_images(offline)
    steps: list[BuildStep] = []
    if offline:
        steps.append(_ensure_python_base(engine, toolchain, paths, refresh, debian_sources, clock))
        steps.append(_ensure_toxiproxy_release(engine, toolchain, paths, refresh, clock))
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
    for name, request in (
        ("storefront image", storefront_build_request(storefront_context, offline, version)),
        ("toxiproxy image", toxiproxy_build_request(toxiproxy_context, offline, version)),
    ):
        started = clock()
        logger.info("Building %s from %s", request.tag, request.context_dir)
        engine.build(request)
        steps.append(
            BuildStep(
                name,
                request.tag,
                "built",
                clock() - started,
                size_bytes=engine.image_size_bytes(request.tag),
            )
        )
    return BuildReport(variant_of(offline), tuple(steps))


def _ensure_python_base(
    engine: ImageEngine,
    toolchain: HostToolchain,
    paths: BuildPaths,
    refresh: bool,
    debian_sources: Sequence[str],
    clock: Callable[[], float],
) -> BuildStep:
    started = clock()
    reference = OFFLINE_PYTHON_BASE
    if not refresh and engine.has_image(reference):
        return BuildStep("python base", reference, "reused", clock() - started)
    tarball = paths.work_dir / "python-base" / "rootfs.tar"
    logger.info("Making %s from Debian %s packages (about a minute)", reference, DEBIAN_SUITE)
    toolchain.bootstrap_debian(tarball, suite=DEBIAN_SUITE, sources=debian_sources)
    changes = (
        *label_changes(image_labels("python-base", DEBIAN_SUITE, True, "scratch")),
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        'CMD ["python3"]',
    )
    try:
        engine.import_tarball(ImportRequest(reference, tarball, changes))
    finally:
        tarball.unlink(missing_ok=True)
    return BuildStep(
        "python base",
        reference,
        "imported",
        clock() - started,
        size_bytes=engine.image_size_bytes(reference),
    )


def _ensure_toxiproxy_release(
    engine: ImageEngine,
    toolchain: HostToolchain,
    paths: BuildPaths,
    refresh: bool,
    clock: Callable[[], float],
) -> BuildStep:
    started = clock()
    reference = OFFLINE_TOXIPROXY_BASE
    if not refresh and engine.has_image(reference):
        return BuildStep("toxiproxy release", reference, "reused", clock() - started)
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
    try:
        engine.import_tarball(ImportRequest(reference, tarball, changes))
    finally:
        tarball.unlink(missing_ok=True)
    return BuildStep(
        "toxiproxy release",
        reference,
        "imported",
        clock() - started,
        size_bytes=engine.image_size_bytes(reference),
    )


def prepare_storefront_context(
    toolchain: HostToolchain, paths: BuildPaths, refresh: bool
) -> tuple[Path, str, bool]:
    """Lay out Dockerfile, wheels/deps/ and wheels/app/; return the context, the wheel cache key
    and whether the dependency wheels came from the cache.

    Dependencies and the project wheel are separate directories, so a code change rebuilds only
    the small layer that installs the project.
    """
    tag = toolchain.interpreter_tag()
    if not tag.startswith(f"{IMAGE_PYTHON_TAG}-"):
        raise EnvironmentProblem(
            f"Wheels would be built by a Python tagged {tag!r}, but the images run CPython 3.11 "
            f"({IMAGE_PYTHON_TAG}). Hint: run peakday from a Python 3.11 virtualenv."
        )
    source = _stage_project_source(paths)
    key = wheel_cache_key((paths.project_dir / "pyproject.toml").read_bytes(), tag)
    deps_cache = paths.wheel_cache_dir / key
    complete_marker = deps_cache / ".complete"
    reused = complete_marker.is_file() and not refresh
    if not reused:
        filling = paths.wheel_cache_dir / f"{key}.filling"
        shutil.rmtree(filling, ignore_errors=True)
        filling.mkdir(parents=True)
        toolchain.build_wheels(source, filling, with_dependencies=True)
        for wheel in filling.glob(f"{PROJECT_WHEEL_PREFIX}*.whl"):
            wheel.unlink()
        (filling / ".complete").touch()
        shutil.rmtree(deps_cache, ignore_errors=True)
        filling.rename(deps_cache)
        for stale in paths.wheel_cache_dir.iterdir():
            if stale != deps_cache:
                shutil.rmtree(stale, ignore_errors=True)

    context = paths.work_dir / "storefront-context"
    shutil.rmtree(context, ignore_errors=True)
    (context / "wheels" / "app").mkdir(parents=True)
    shutil.copyfile(paths.compose_dir / "Dockerfile.storefront", context / "Dockerfile")
    shutil.copytree(
        deps_cache,
        context / "wheels" / "deps",
        copy_function=_link_or_copy,
        ignore=shutil.ignore_patterns(".complete"),
    )
    toolchain.build_wheels(source, context / "wheels" / "app", with_dependencies=False)
    return context, key, reused


def prepare_toxiproxy_context(paths: BuildPaths) -> Path:
    context = paths.work_dir / "toxiproxy-context"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    shutil.copyfile(paths.compose_dir / "Dockerfile.toxiproxy", context / "Dockerfile")
    return context


def _stage_project_source(paths: BuildPaths) -> Path:
    """A clean copy of the files a wheel is made from.

    Building from the checkout itself would leave build/ there, and setuptools reuses build/lib,
    so a module deleted from src/ could still end up in the wheel.
    """
    staged = paths.work_dir / "project-source"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    project = paths.project_dir
    for name in ("pyproject.toml", "setup.cfg", "setup.py", "README.md", "LICENSE", "MANIFEST.in"):
        if (project / name).is_file():
            shutil.copy2(project / name, staged / name)
    shutil.copytree(
        project / "src",
        staged / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    return staged


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
