"""result.json's text, made and read a piece at a time (pure), so a long run is never one huge
string nor one huge parse.

Everything but the timeline is indented as before; the timeline comes last, one row a line, each
row without the fields that hold their default (no uncorrected series in the closed model, no
failures in a good second). Every reader of schema 3 reads it: a left-out field is its default.
`read_result_lines` reads that layout a row at a time; any other layout (results written before,
or by hand) is parsed as one document.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from pydantic import TypeAdapter

from peakday.results.columns import CompactTimeline
from peakday.results.model import Result, TimelineRow

_ROWS_PER_CHUNK: Final = 2_000
_LINES_PER_JOIN: Final = 10_000
_TIMELINE_OPENS: Final = b'"timeline": ['
_TIMELINE_CLOSES: Final = b"]"


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


def read_result_lines(lines: Iterable[bytes]) -> Result:
    """The result in `lines` (a result.json's lines, newlines kept), its timeline validated a
    row at a time when it has the layout `result_json_chunks` writes; raises pydantic's
    ValidationError or ValueError on a bad document, as `Result.model_validate_json` does."""
    # Every line but the rows. Short lines are joined a batch at a time (the indented head of a
    # long run has millions, and an object per line costs several times its text); a document
    # on one line stays the one object it was read as.
    outside: list[bytes] = []
    joined = 0  # the leading items of `outside` that are batches already joined
    rows = CompactTimeline()  # a few bytes a row, not a Python object per row and per number
    chunk: list[TimelineRow] = []  # rows go into the columns a chunk at a time (cheaper)
    row_from_json = TypeAdapter(TimelineRow).validate_json
    state, opener = "head", b""
    for line in lines:
        stripped = line.strip()
        if state == "head" and stripped == _TIMELINE_OPENS:
            outside.append(b'  "timeline": []\n')
            opener = line
            state = "rows"
        elif state == "rows" and not (rows or chunk) and stripped == b"{":  # indented rows
            outside[-1:] = [opener, line]
            state = "document"
        elif state == "rows" and stripped == _TIMELINE_CLOSES:
            state = "tail"
        elif state == "rows":
            chunk.append(row_from_json(stripped.removesuffix(b",")))
            if len(chunk) == _ROWS_PER_CHUNK:
                rows.extend(chunk)
                chunk.clear()
        else:
            outside.append(line)
            if len(outside) - joined >= _LINES_PER_JOIN:
                outside[joined:] = [b"".join(outside[joined:])]
                joined += 1
    rows.extend(chunk)
    result = Result.model_validate_json(b"".join(outside))
    return result.model_copy(update={"timeline": rows}) if rows else result
