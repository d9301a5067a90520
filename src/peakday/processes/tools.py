"""Finding the external binaries peakday drives (toxiproxy-server)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from peakday.errors import EnvironmentProblem

TOXIPROXY_VERSION = "2.12.0"
TOOLS_DIR_ENV_VAR = "PEAKDAY_TOOLS_DIR"


def user_tools_dir(environ: Mapping[str, str]) -> Path:
    """The tools folder: $PEAKDAY_TOOLS_DIR, else <XDG data dir>/peakday/tools/bin
    ($XDG_DATA_HOME, else ~/.local/share), where `peakday tools install` puts binaries."""
    if environ.get(TOOLS_DIR_ENV_VAR):
        return Path(environ[TOOLS_DIR_ENV_VAR])
    data_home = environ.get("XDG_DATA_HOME") or str(
        Path(environ.get("HOME", "~")) / ".local" / "share"
    )
    return Path(data_home).expanduser() / "peakday" / "tools" / "bin"


def find_binary(name: str, tools_dirs: Sequence[Path]) -> str:
    """The project tools folders first (pinned version), then PATH."""
    for folder in tools_dirs:
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    searched = ", ".join(str(d) for d in tools_dirs) or "(none)"
    raise EnvironmentProblem(
        f"{name!r} was not found in the tools folders ({searched}) nor on PATH. "
        f"Hint: run 'peakday tools install' (builds toxiproxy v{TOXIPROXY_VERSION} with Go; "
        "without Go it says where to download it), then 'peakday doctor' to check."
    )
