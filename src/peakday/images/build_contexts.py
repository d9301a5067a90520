"""The build contexts of the images, laid out on disk: the dependency wheels (cached by what
peakday depends on and the interpreter), the project wheel, and the Dockerfiles shipped in the
package (peakday/images/dockerfiles/; compose/ links to them).

From a checkout the wheels are built from a clean copy of its source; from an installed peakday
(no checkout) the project wheel is repacked from the installed files and the dependencies are
the installed metadata's requirements.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from peakday.errors import EnvironmentProblem
from peakday.images.host_toolchain import HostToolchain
from peakday.images.installed_wheel import repack_installed, runtime_requirements

# Wheels are built on the host for the image's interpreter: bookworm's python3 is CPython 3.11.
IMAGE_PYTHON_TAG = "cp311"
PROJECT_WHEEL_PREFIX = "peakday-"
DOCKERFILE_DIR = Path(__file__).resolve().parent / "dockerfiles"
PEAKDAY_DOCKERFILE = "Dockerfile.peakday"


@dataclass(frozen=True)
class BuildPaths:
    # A peakday checkout (pyproject.toml, src/), or None: build from the installed package.
    project_dir: Path | None
    work_dir: Path  # build contexts, caches and logs
    dockerfile_dir: Path = DOCKERFILE_DIR

    @classmethod
    def for_project(cls, project_dir: Path) -> BuildPaths:
        return cls(project_dir=project_dir, work_dir=project_dir / ".tools" / "images")

    @classmethod
    def for_installed(cls, environ: Mapping[str, str]) -> BuildPaths:
        """Work in the per-user cache: $XDG_CACHE_HOME/peakday/images, else ~/.cache/..."""
        cache_home = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME", "~")) / ".cache")
        return cls(project_dir=None, work_dir=Path(cache_home).expanduser() / "peakday" / "images")

    @property
    def wheel_cache_dir(self) -> Path:
        return self.work_dir / "wheels"

    @property
    def log_dir(self) -> Path:
        return self.work_dir / "logs"


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
    if paths.project_dir is not None:
        source = _stage_project_source(paths.project_dir, paths.work_dir)
        key = wheel_cache_key((paths.project_dir / "pyproject.toml").read_bytes(), tag)
    else:
        source, requirements = _repack_installed_peakday(paths.work_dir)
        key = wheel_cache_key(json.dumps(requirements).encode(), tag)
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
    shutil.copyfile(paths.dockerfile_dir / "Dockerfile.storefront", context / "Dockerfile")
    shutil.copyfile(paths.dockerfile_dir / PEAKDAY_DOCKERFILE, context / PEAKDAY_DOCKERFILE)
    shutil.copytree(
        deps_cache,
        context / "wheels" / "deps",
        copy_function=_link_or_copy,
        ignore=shutil.ignore_patterns(".complete"),
    )
    if source.suffix == ".whl":
        shutil.copy2(source, context / "wheels" / "app" / source.name)
    else:
        toolchain.build_wheels(source, context / "wheels" / "app", with_dependencies=False)
    return context, key, reused


def prepare_toxiproxy_context(paths: BuildPaths) -> Path:
    context = paths.work_dir / "toxiproxy-context"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    shutil.copyfile(paths.dockerfile_dir / "Dockerfile.toxiproxy", context / "Dockerfile")
    return context


def prepare_prometheus_context(paths: BuildPaths, binary: Path) -> Path:
    """Dockerfile.prometheus and a copy of the prometheus binary (Debian's, from this machine)."""
    context = paths.work_dir / "prometheus-context"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    shutil.copyfile(paths.dockerfile_dir / "Dockerfile.prometheus", context / "Dockerfile")
    shutil.copy2(binary, context / "prometheus")
    (context / "prometheus").chmod(0o755)
    return context


def _repack_installed_peakday(work_dir: Path) -> tuple[Path, list[str]]:
    """The installed peakday as a wheel, and what it requires (pip wheels those from the wheel)."""
    try:
        installed = distribution("peakday")
    except PackageNotFoundError as error:
        raise EnvironmentProblem(
            "peakday is not installed as a package and no checkout was found. Hint: run "
            "'peakday images build' from the peakday checkout, or pip install its wheel."
        ) from error
    out_dir = work_dir / "project-wheel"
    shutil.rmtree(out_dir, ignore_errors=True)
    return repack_installed(installed, out_dir), list(runtime_requirements(installed))


def _stage_project_source(project: Path, work_dir: Path) -> Path:
    """A clean copy of the files a wheel is made from.

    Building from the checkout itself would leave build/ there, and setuptools reuses build/lib,
    so a module deleted from src/ could still end up in the wheel.
    """
    staged = work_dir / "project-source"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
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
