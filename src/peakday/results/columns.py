"""A long run's timeline held column by column (pure): a few bytes per row instead of a Python
object per row and per number.

A `TimelineRow` costs about 620 bytes in memory (its slots, a float object per percentile, an
empty dict, its base64 histogram as a str); an 8-hour, 10-step run has ~290,000 of them. Here
each field is a typed array (NaN for None), each histogram ASCII bytes in one shared buffer,
and the rare row that does not fit that form exactly (failures by kind, a NaN value, a number
beyond 64 bits) is kept whole. A row is rebuilt when read, equal to the one stored.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Final, overload

from peakday.results.model import TimelineRow

INT_FIELDS: Final = ("t_s", "requests", "failures", "out_of_range")
FLOAT_FIELDS: Final = (
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "throughput_rps",
    "uncorrected_p50_ms",
    "uncorrected_p90_ms",
    "uncorrected_p95_ms",
    "uncorrected_p99_ms",
    "uncorrected_p999_ms",
    "uncorrected_max_ms",
    "value",
)
TEXT_FIELDS: Final = ("histogram", "uncorrected_histogram")
OTHER_FIELDS: Final = ("name", "failures_by_kind")
_INT_LIMIT: Final = 2**63


class _Texts:
    """Many ASCII strings in one buffer, found by their end offsets."""

    __slots__ = ("_buffer", "_ends")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._ends = array("q")

    def append(self, text: bytes) -> None:
        self._buffer += text
        self._ends.append(len(self._buffer))

    def __getitem__(self, index: int) -> str:
        start = self._ends[index - 1] if index else 0
        return self._buffer[start : self._ends[index]].decode("ascii")


def _fits(row: TimelineRow) -> bool:
    """Whether the columns hold `row` exactly (else it is kept whole)."""
    if row.failures_by_kind or not (row.histogram + row.uncorrected_histogram).isascii():
        return False
    if any(not -_INT_LIMIT <= getattr(row, name) < _INT_LIMIT for name in INT_FIELDS):
        return False
    floats = (getattr(row, name) for name in FLOAT_FIELDS)
    return not any(value is not None and math.isnan(value) for value in floats)


class CompactTimeline(Sequence[TimelineRow]):
    """The timeline's rows, in order, stored as columns; reads give `TimelineRow`s back."""

    __slots__ = (
        "_absent",
        "_by_name",
        "_floats",
        "_int_columns",
        "_ints",
        "_length",
        "_name_ids",
        "_names",
        "_text_columns",
        "_texts",
        "_whole",
    )

    def __init__(self, rows: Iterable[TimelineRow] = ()) -> None:
        self._length = 0
        self._names: list[str] = []
        self._by_name: list[array[int]] = []  # each step's row indices
        self._name_ids: dict[str, int] = {}
        self._ints = {name: array("q") for name in (*INT_FIELDS, "name")}
        self._floats: dict[str, array[float]] = {}  # a column appears at its first value
        self._texts = {name: _Texts() for name in TEXT_FIELDS}
        self._whole: dict[int, TimelineRow] = {}
        self._int_columns = tuple((name, self._ints[name]) for name in INT_FIELDS)
        self._text_columns = tuple(self._texts.items())
        self._absent: tuple[str, ...] = FLOAT_FIELDS  # float columns with no value yet
        for row in rows:
            self.append(row)

    def append(self, row: TimelineRow) -> None:
        index = self._length
        if not _fits(row):
            self._whole[index] = row
            row = TimelineRow(t_s=0, name=row.name, requests=0, failures=0, p50_ms=None,
                              p95_ms=None, p99_ms=None)  # fmt: skip
        name_id = self._name_ids.setdefault(row.name, len(self._names))
        if name_id == len(self._names):
            self._names.append(row.name)
            self._by_name.append(array("q"))
        self._by_name[name_id].append(index)
        self._ints["name"].append(name_id)
        for name in INT_FIELDS:
            self._ints[name].append(getattr(row, name))
        for name in FLOAT_FIELDS:
            value = getattr(row, name)
            column = self._floats.get(name)
            if column is None and value is not None:
                column = self._floats[name] = array("d", [math.nan]) * index
                self._absent = tuple(n for n in FLOAT_FIELDS if n not in self._floats)
            if column is not None:
                column.append(math.nan if value is None else value)
        for name in TEXT_FIELDS:
            self._texts[name].append(getattr(row, name).encode("ascii"))
        self._length += 1

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> TimelineRow: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[TimelineRow]: ...

    def __getitem__(self, index: int | slice) -> TimelineRow | Sequence[TimelineRow]:
        if isinstance(index, slice):
            return tuple(self._row(i) for i in range(*index.indices(self._length)))
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("timeline index out of range")
        return self._row(index)

    def __iter__(self) -> Iterator[TimelineRow]:
        return (self._row(i) for i in range(self._length))

    def where(self, names: Collection[str], keep: Callable[[int], bool]) -> Iterator[TimelineRow]:
        """The rows of the steps `names` whose second passes `keep`, built only for those."""
        ids = [self._name_ids[name] for name in names if name in self._name_ids]
        indices = sorted(i for name_id in set(ids) for i in self._by_name[name_id])
        seconds, whole = self._ints["t_s"], self._whole
        for i in indices:
            row = whole.get(i) if whole else None
            if row is not None:
                if keep(row.t_s):
                    yield row
            elif keep(seconds[i]):
                yield self._row(i)

    @property
    def last_second(self) -> int | None:
        """The latest `t_s` in the rows; None without rows."""
        seconds = [row.t_s for row in self._whole.values()]
        if len(self._whole) < self._length:
            seconds.append(max(self._ints["t_s"]))  # a whole row's placeholder says 0
        return max(seconds, default=None)

    @property
    def names(self) -> tuple[str, ...]:
        """Every step name in the rows, in the order first seen."""
        return tuple(self._names)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"CompactTimeline({self._length} rows)"

    def _row(self, index: int) -> TimelineRow:
        whole = self._whole.get(index)
        if whole is not None:
            return whole
        row: TimelineRow = object.__new__(TimelineRow)
        # Already validated when stored: set the slots as the frozen dataclass's own __init__
        # would, without validating every field of every row again on each read.
        put = object.__setattr__
        put(row, "name", self._names[self._ints["name"][index]])
        put(row, "failures_by_kind", {})
        for name, ints in self._int_columns:
            put(row, name, ints[index])
        for name in self._absent:
            put(row, name, None)
        for name, floats in self._floats.items():
            value = floats[index]
            put(row, name, None if value != value else value)  # NaN: None
        for name, texts in self._text_columns:
            put(row, name, texts[index])
        return row
