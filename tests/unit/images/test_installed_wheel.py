"""Repacking an installed distribution as a wheel (image builds from an installed peakday)."""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from importlib.metadata import PathDistribution
from pathlib import Path

import pytest

from peakday.errors import EnvironmentProblem
from peakday.images.installed_wheel import repack_installed, runtime_requirements

METADATA = """Metadata-Version: 2.4
Name: peakday
Version: 9.8.7
Requires-Dist: httpx>=0.27
Requires-Dist: click>=8.1
Requires-Dist: pytest>=8.0; extra == "dev"
Provides-Extra: dev
"""


def installed(site: Path, with_package: bool = True) -> PathDistribution:
    """A site-packages folder as pip leaves it after installing a wheel."""
    info = site / "peakday-9.8.7.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(METADATA)
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    (info / "entry_points.txt").write_text("[console_scripts]\npeakday = peakday.cli:main\n")
    (info / "INSTALLER").write_text("pip\n")
    (info / "direct_url.json").write_text("{}")
    records = [
        "peakday-9.8.7.dist-info/METADATA,,",
        "peakday-9.8.7.dist-info/WHEEL,,",
        "peakday-9.8.7.dist-info/entry_points.txt,,",
        "peakday-9.8.7.dist-info/INSTALLER,,",
        "peakday-9.8.7.dist-info/direct_url.json,,",
        "peakday-9.8.7.dist-info/RECORD,,",
        "../../../bin/peakday,,",
    ]
    if with_package:
        (site / "peakday" / "data").mkdir(parents=True)
        (site / "peakday" / "__pycache__").mkdir()
        (site / "peakday" / "__init__.py").write_text('__version__ = "9.8.7"\n')
        (site / "peakday" / "data" / "Dockerfile.x").write_text("FROM scratch\n")
        (site / "peakday" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0")
        records += [
            "peakday/__init__.py,,",
            "peakday/data/Dockerfile.x,,",
            "peakday/__pycache__/__init__.cpython-311.pyc,,",
        ]
    (info / "RECORD").write_text("\n".join(records) + "\n")
    return PathDistribution(info)


def test_repacked_wheel_holds_the_package_and_metadata_but_not_installer_files(
    tmp_path: Path,
) -> None:
    wheel = repack_installed(installed(tmp_path / "site"), tmp_path / "out")

    assert wheel.name == "peakday-9.8.7-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = sorted(archive.namelist())
        record = archive.read("peakday-9.8.7.dist-info/RECORD").decode()
        init = archive.read("peakday/__init__.py")
    assert names == [
        "peakday-9.8.7.dist-info/METADATA",
        "peakday-9.8.7.dist-info/RECORD",
        "peakday-9.8.7.dist-info/WHEEL",
        "peakday-9.8.7.dist-info/entry_points.txt",
        "peakday/__init__.py",
        "peakday/data/Dockerfile.x",
    ]
    digest = base64.urlsafe_b64encode(hashlib.sha256(init).digest()).rstrip(b"=").decode()
    assert f"peakday/__init__.py,sha256={digest},{len(init)}" in record.splitlines()


def test_repacking_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    """Same content, same wheel: the image's project layer stays cached."""
    distribution = installed(tmp_path / "site")

    first = repack_installed(distribution, tmp_path / "a").read_bytes()
    for installed_file in (tmp_path / "site").rglob("*"):
        os.utime(installed_file, (1_700_000_000, 1_700_000_000))  # a reinstall: new times
    second = repack_installed(distribution, tmp_path / "b").read_bytes()

    assert first == second


def test_an_install_without_package_files_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match=r"lists no package files.*Hint: run"):
        repack_installed(installed(tmp_path / "site", with_package=False), tmp_path / "out")


def test_runtime_requirements_leave_out_extras(tmp_path: Path) -> None:
    assert runtime_requirements(installed(tmp_path / "site")) == ("httpx>=0.27", "click>=8.1")
