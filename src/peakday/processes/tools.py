"""Finding the external binaries peakday drives (toxiproxy-server)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from peakday.errors import EnvironmentProblem

TOXIPROXY_VERSION = "2.12.0"


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
        f"{name!r} was not found in the project tools folder ({searched}) nor on PATH. "
        f"Hint: run 'make tools' (needs Go: it runs 'go install "
        f"github.com/Shopify/toxiproxy/v2/cmd/server@v{TOXIPROXY_VERSION}'), or download "
        f"toxiproxy-server v{TOXIPROXY_VERSION} from the Toxiproxy GitHub releases page, or "
        "'brew install toxiproxy' on macOS, and put it on PATH."
    )
