"""Reading saved results from disk."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from peakday.errors import ResultError
from peakday.results.encoding import read_result_lines
from peakday.results.folder import RunFolder
from peakday.results.model import Result


def load_result(run_dir: Path) -> Result:
    path = RunFolder(run_dir).result if run_dir.is_dir() else run_dir
    try:
        with path.open("rb") as lines:  # a long run's rows one at a time, never the whole file
            return read_result_lines(lines)
    except FileNotFoundError as exc:
        raise ResultError(
            f"No result at {str(path)!r}. Hint: pass the folder a 'peakday run' wrote."
        ) from exc
    except ValidationError as exc:
        raise ResultError(
            f"{str(path)!r} is not a peakday result this version can read: "
            f"{exc.error_count()} problem(s), first at {exc.errors()[0]['loc']!r}."
        ) from exc
