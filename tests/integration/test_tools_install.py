"""`peakday tools install` for real: go install of toxiproxy v2.12.0 into an empty folder (quick
when Go's module and build caches hold it), then the installed server runs and a run finds it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.skipif(shutil.which("go") is None, reason="needs Go to build toxiproxy")
def test_tools_install_builds_toxiproxy_into_the_tools_folder(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    env = {**os.environ, "PEAKDAY_TOOLS_DIR": str(tools)}
    done = subprocess.run(
        [sys.executable, "-m", "peakday", "tools", "install"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"installed toxiproxy-server v2.12.0 into {tools}" in done.stdout
    version = subprocess.run(
        [str(tools / "toxiproxy-server"), "-version"], capture_output=True, text=True, check=True
    )
    assert "2.12.0" in version.stdout
    assert sorted(path.name for path in tools.iterdir()) == ["toxiproxy-cli", "toxiproxy-server"]
    again = subprocess.run(
        [sys.executable, "-m", "peakday", "tools", "install"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "already in" in again.stdout

    doctor = subprocess.run(
        [sys.executable, "-m", "peakday", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"2.12.0 at {tools / 'toxiproxy-server'}" in doctor.stdout


def test_doctor_on_a_machine_without_toxiproxy_names_it_and_exits_3(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PEAKDAY_TOOLS_DIR": str(tmp_path / "empty"),
        "PATH": str(Path(sys.executable).parent),  # python only: no toxiproxy, go or docker CLI
    }
    done = subprocess.run(
        [sys.executable, "-m", "peakday", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 3
    assert "MISSING  toxiproxy-server" in done.stdout
    assert "fix: peakday tools install" in done.stdout
    assert "missing toxiproxy-server" in done.stderr
