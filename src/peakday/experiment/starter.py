"""What `peakday init` writes: a commented experiment for a platform (and, for external, a
starter locustfile), from the templates in experiment/starters/; pure, the command writes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

STARTERS_DIR = Path(__file__).resolve().parent / "starters"
PLATFORMS = ("local", "docker", "external")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class StarterFile:
    path: Path  # relative to the folder init writes into
    text: str


def starter_files(platform: str, name: str, schema_url: str) -> list[StarterFile]:
    """The files `peakday init --platform PLATFORM NAME` writes; raises ValueError for a
    platform or name it cannot use."""
    if platform not in PLATFORMS:
        raise ValueError(f"Unknown platform {platform!r}; use one of {', '.join(PLATFORMS)}.")
    if not NAME_PATTERN.match(name):
        raise ValueError(
            f"The name {name!r} is not usable as a file and experiment name; use lower-case "
            "letters, digits, '.', '_' and '-', such as 'checkout-brownout'."
        )
    experiment = Path(f"{name}.yaml")
    locustfile = Path(f"{name.replace('-', '_').replace('.', '_')}_locust.py")
    values = {
        "name": name,
        "file": str(experiment),
        "locustfile": str(locustfile),
        "schema_url": schema_url,
    }
    files = [StarterFile(experiment, _render(f"{platform}.yaml.tmpl", values))]
    if platform == "external":
        files.append(StarterFile(locustfile, _render("external_locustfile.py.tmpl", values)))
    return files


def _render(template: str, values: dict[str, str]) -> str:
    return Template((STARTERS_DIR / template).read_text(encoding="utf-8")).substitute(values)
