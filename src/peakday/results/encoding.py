"""result.json's text, made a piece at a time (pure), so a long run is never one huge string.

Everything but the timeline is indented as before; the timeline comes last, one row a line, each
row without the fields that hold their default (no uncorrected series in the closed model, no
failures in a good second). Every reader of schema 3 reads it: a left-out field is its default.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from pydantic import TypeAdapter

from peakday.results.model import Result, TimelineRow

_ROWS_PER_CHUNK: Final = 2_000


def result_json_chunks(result: Result) -> Iterator[str]:
    """The JSON text of `result` in pieces that together are one document."""
    head = result.model_dump_json(indent=2, exclude={"timeline"})
    if not head.endswith("\n}"):  # pydantic's indented object always ends so
        raise AssertionError("unexpected JSON from pydantic")
    yield head[: -len("\n}")] + ',\n  "timeline": ['
    row_json = TypeAdapter(TimelineRow).dump_json
    rows = result.timeline
    for start in range(0, len(rows), _ROWS_PER_CHUNK):
        lines = (
            row_json(row, exclude_defaults=True).decode()
            for row in rows[start : start + _ROWS_PER_CHUNK]
        )
        yield ("," if start else "") + "\n    " + ",\n    ".join(lines)
    yield "\n  ]\n}\n" if rows else "]\n}\n"
