"""Where the files shipped inside the package are: the storefront's journeys (a locustfile),
the shipped experiments and the experiment JSON Schema.

Only paths, nothing is read here, so a run works from any folder once peakday is installed.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
STOREFRONT_LOCUSTFILE = PACKAGE_DIR / "load" / "journeys" / "storefront.py"
SHIPPED_EXPERIMENTS_DIR = PACKAGE_DIR / "experiment" / "shipped"
EXPERIMENT_SCHEMA = PACKAGE_DIR / "experiment" / "experiment.schema.json"
EXPERIMENT_SUFFIXES = (".yaml", ".yml")


def shipped_experiment_files() -> list[Path]:
    """Every shipped experiment file, sorted by name."""
    return sorted(
        path for path in SHIPPED_EXPERIMENTS_DIR.iterdir() if path.suffix in EXPERIMENT_SUFFIXES
    )


def shipped_experiment(name: str) -> Path | None:
    """The shipped experiment file called `name` (with or without .yaml), or None."""
    stem = name.removesuffix(".yaml").removesuffix(".yml")
    for path in shipped_experiment_files():
        if path.stem == stem:
            return path
    return None
