"""The programs run on the host to make what the offline image builds need: pip wheels for the
image's interpreter, a Debian root filesystem from mmdebstrap, a static toxiproxy-server from
`go install`. `HostToolchain` is the seam; images.py sequences the build and tests use fakes.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from peakday.errors import EnvironmentProblem
from peakday.processes.waiting import tail

logger = logging.getLogger("peakday.images.build")

# python3-venv brings ensurepip's bundled pip, so no python3-pip; passwd provides useradd.
PYTHON_BASE_PACKAGES = ("python3", "python3-venv", "passwd")
TOXIPROXY_MODULE = "github.com/Shopify/toxiproxy/v2"
_SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01: wheel bytes depend on content only, for layer cache


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
