"""peakday as a tool you install: build the wheel, install it into a fresh venv outside the
checkout, and from an empty folder init, validate and run (a generated experiment and a shipped
one by name) for real on the local platform.

Offline-ish and fast: `python -m build --no-isolation` with this venv's setuptools, and the
fresh venv sees this venv's dependencies through a .pth line instead of downloading them (the
wheel itself is installed with --no-deps, so its own files are what runs).
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin folder of a fresh venv with the built wheel installed."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--outdir",
            str(root / "dist"),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (root / "dist").glob("peakday-*.whl")
    assert list((root / "dist").glob("peakday-*.tar.gz")), "python -m build makes the sdist too"
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    pip = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        env=without_pythonpath(),  # else pip finds src/peakday.egg-info and installs nothing
        check=False,
    )
    assert "Successfully installed peakday" in pip.stdout, pip.stdout + pip.stderr
    # After the install: pip would otherwise take this venv's editable peakday as installed.
    purelib = next(venv.glob("lib/python*/site-packages"))
    (purelib / "peakday-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    yield venv / "bin"


def without_pythonpath() -> dict[str, str]:
    """The environment minus PYTHONPATH: the tests' src/ must not stand in for the wheel."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def peakday(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = without_pythonpath()
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [str(bin_dir / "peakday"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_installed_wheel_runs_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run(
        [str(installed / "python"), "-c", "import peakday; print(peakday.__file__)"],
        cwd=empty,
        capture_output=True,
        text=True,
        check=False,
        env=without_pythonpath(),
    )
    assert where.stdout.startswith(str(installed.parent)), where.stdout + where.stderr

    version = peakday(installed, empty, "--version")
    assert version.returncode == 0 and "peakday, version 0.1.0" in version.stdout
    listed = peakday(installed, empty, "experiments")
    assert "cyber-monday-login-outage" in listed.stdout and "smoke" in listed.stdout
    assert peakday(installed, empty, "validate", "smoke", "gate").returncode == 0
    assert peakday(installed, empty, "init", "mine").returncode == 0
    assert peakday(installed, empty, "validate", "mine.yaml").returncode == 0

    for name in ("smoke", "mine.yaml"):
        ran = peakday(installed, empty, "run", name, "--out", f"out-{name}", "--no-color", "-q")
        assert ran.returncode in (0, 1), ran.stdout + ran.stderr
        result = json.loads((empty / f"out-{name}" / "result.json").read_text())
        assert result["experiment"]["name"] == name.removesuffix(".yaml")
        assert result["verdict"] in ("pass", "warn", "fail")


REPACK = """
import sys
from importlib.metadata import distribution
from pathlib import Path

from peakday.images.build import locate_build_paths
from peakday.images.installed_wheel import repack_installed

paths = locate_build_paths(Path.cwd(), {"XDG_CACHE_HOME": sys.argv[1]})
print(paths.project_dir, paths.dockerfile_dir, sep="\\n")
print(repack_installed(distribution("peakday"), Path(sys.argv[1]) / "wheel"))
"""


def test_the_installed_wheel_carries_what_image_builds_need(
    installed: Path, tmp_path: Path
) -> None:
    """Outside a checkout, image builds use the packaged Dockerfiles and a wheel repacked from
    the installed files: the same files as the wheel it was installed from."""
    import zipfile

    empty = tmp_path / "empty"
    empty.mkdir()
    repacked = subprocess.run(
        [str(installed / "python"), "-c", REPACK, str(tmp_path / "cache")],
        cwd=empty,
        capture_output=True,
        text=True,
        check=False,
        env=without_pythonpath(),
    )
    assert repacked.returncode == 0, repacked.stderr
    project_dir, dockerfile_dir, wheel = repacked.stdout.splitlines()
    assert project_dir == "None"
    assert dockerfile_dir.startswith(str(installed.parent))
    for name in ("Dockerfile.storefront", "Dockerfile.toxiproxy", "Dockerfile.peakday"):
        assert (Path(dockerfile_dir) / name).is_file()
    (original,) = (installed.parent.parent / "dist").glob("peakday-*.whl")
    with zipfile.ZipFile(original) as before, zipfile.ZipFile(wheel) as after:
        assert sorted(after.namelist()) == sorted(before.namelist())
        for name in before.namelist():
            if not name.endswith("/RECORD"):
                assert after.read(name) == before.read(name), name
    help_text = peakday(installed, empty, "images", "build", "--help")
    assert help_text.returncode == 0 and "--tag TAG" in help_text.stdout
