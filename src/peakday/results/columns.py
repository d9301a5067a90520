"""A long run's timeline held column by column (pure): a few bytes per row instead of a Python
object per row and per number.

A `TimelineRow` costs about 620 bytes in memory (its slots, a float object per percentile, an
empty dict, its base64 histogram as a str); an 8-hour, 10-step run has ~290,000 of them. Here
each field is a typed array (NaN for None), each histogram ASCII bytes in one shared buffer,
and the rare row that does not fit that form exactly (failures by kind, a NaN value, a number
beyond 64 bits) is kept whole. A row is rebuilt when read, equal to the one stored; readers
that need a few fields of one step read them with `values`, building no row at all. Rows are
added a batch at a time (`extend`), each field of the batch in one pass.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from itertools import accumulate
from operator import attrgetter
from typing import ClassVar, Final, overload

from pydantic import TypeAdapter
from pydantic_core import SchemaSerializer, core_schema

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
_NAN: Final = math.nan
_KINDS: Final = attrgetter("failures_by_kind")


class _Texts:
    """Many ASCII strings in one buffer, found by their end offsets."""

    __slots__ = ("_buffer", "_ends")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._ends = array("q")

    def extend(self, texts: Sequence[str]) -> None:
        """ASCII `texts` added at once: one join, one pass over their lengths."""
        ends = accumulate(map(len, texts), initial=len(self._buffer))
        next(ends)  # the start, not an end
        self._ends.extend(ends)
        self._buffer += "".join(texts).encode("ascii")

    def __getitem__(self, index: int) -> str:
        start = self._ends[index - 1] if index else 0
        return self._buffer[start : self._ends[index]].decode("ascii")

    def many(self, indices: Iterable[int]) -> list[str]:
        """The strings at `indices`, in that order."""
        buffer, ends = self._buffer, self._ends
        return [buffer[(ends[i - 1] if i else 0) : ends[i]].decode("ascii") for i in indices]


def _all_fit(rows: Sequence[TimelineRow]) -> bool:
    """Whether the columns hold each of `rows` exactly (else a row is kept whole): no failures
    by kind, ASCII histograms, 64-bit integers, no NaN (it would read back as None). Each check
    runs over the whole batch in C (map, join, min, max), not field by field in Python."""
    if any(map(_KINDS, rows)):
        return False
    if not all("".join(map(attrgetter(name), rows)).isascii() for name in TEXT_FIELDS):
        return False
    for name in INT_FIELDS:
        ints = list(map(attrgetter(name), rows))
        if min(ints) < -_INT_LIMIT or max(ints) >= _INT_LIMIT:
            return False
    for name in FLOAT_FIELDS:
        present = [value for value in map(attrgetter(name), rows) if value is not None]
        if any(map(math.isnan, present)):
            return False
    return True


class CompactTimeline(Sequence[TimelineRow]):
    """The timeline's rows, in order, stored as columns; reads give `TimelineRow`s back."""

    __slots__ = (
        "_absent",
        "_by_name",
        "_float_columns",
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

    # pydantic serializes a Result holding columns as it would a tuple of rows (model_dump,
    # model_dump_json): it looks for this attribute on a value of a type it does not know.
    __pydantic_serializer__: ClassVar = SchemaSerializer(
        core_schema.any_schema(
            serialization=core_schema.plain_serializer_function_ser_schema(
                tuple, return_schema=TypeAdapter(tuple[TimelineRow, ...]).core_schema
            )
        )
    )

    def __init__(self, rows: Iterable[TimelineRow] = ()) -> None:
        self._length = 0
        self._names: list[str] = []
        self._by_name: list[array[int]] = []  # each step's row indices, ascending
        self._name_ids: dict[str, int] = {}
        self._ints = {name: array("q") for name in (*INT_FIELDS, "name")}
        self._floats: dict[str, array[float]] = {}  # a column appears at its first value
        self._texts = {name: _Texts() for name in TEXT_FIELDS}
        self._whole: dict[int, TimelineRow] = {}
        # Each slot's setter with its column: a row is rebuilt by one call per field.
        self._int_columns = tuple((_SETTERS[name], self._ints[name]) for name in INT_FIELDS)
        self._text_columns = tuple((_SETTERS[name], self._texts[name]) for name in TEXT_FIELDS)
        self._float_columns: tuple[tuple[Callable[[TimelineRow, object], None], array[float]], ...]
        self._float_columns = ()
        self._absent = tuple(_SETTERS[name] for name in FLOAT_FIELDS)  # no value yet
        self.extend(tuple(rows))

    def append(self, row: TimelineRow) -> None:
        self.extend((row,))

    def extend(self, rows: Sequence[TimelineRow]) -> None:
        """Add `rows` in order. A batch (the reader's chunk of a few thousand rows) goes into
        the columns field by field, which costs far less than row by row."""
        if not rows:
            return
        if _all_fit(rows):
            self._extend_fitting(rows)
            return
        for row in rows:  # the rare batch with a row to keep whole: one row at a time
            if _all_fit((row,)):
                self._extend_fitting((row,))
            else:
                self._whole[self._length] = row  # its placeholder says 0 and None
                placeholder = TimelineRow(t_s=0, name=row.name, requests=0, failures=0,
                                          p50_ms=None, p95_ms=None, p99_ms=None)  # fmt: skip
                self._extend_fitting((placeholder,))

    def _extend_fitting(self, rows: Sequence[TimelineRow]) -> None:
        start, count = self._length, len(rows)
        names = list(map(attrgetter("name"), rows))
        for name in dict.fromkeys(names):  # new steps in the order first seen
            if name not in self._name_ids:
                self._name_ids[name] = len(self._names)
                self._names.append(name)
                self._by_name.append(array("q"))
        ids = [self._name_ids[name] for name in names]
        self._ints["name"].extend(ids)
        by_name = self._by_name
        for index, name_id in enumerate(ids, start):
            by_name[name_id].append(index)
        for name in INT_FIELDS:
            self._ints[name].extend(map(attrgetter(name), rows))
        for name in FLOAT_FIELDS:
            values = list(map(attrgetter(name), rows))
            column = self._floats.get(name)
            if column is None:
                if values.count(None) == count:
                    continue
                column = self._floats[name] = array("d", [_NAN]) * start
                self._float_columns = tuple((_SETTERS[n], c) for n, c in self._floats.items())
                self._absent = tuple(_SETTERS[n] for n in FLOAT_FIELDS if n not in self._floats)
            column.extend([_NAN if value is None else value for value in values])
        for name in TEXT_FIELDS:
            self._texts[name].extend(list(map(attrgetter(name), rows)))
        self._length += count

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> TimelineRow: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[TimelineRow]: ...

    def __getitem__(self, index: int | slice) -> TimelineRow | Sequence[TimelineRow]:
        if isinstance(index, slice):
            return tuple(map(self._row, range(*index.indices(self._length))))
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("timeline index out of range")
        return self._row(index)

    def __iter__(self) -> Iterator[TimelineRow]:
        return map(self._row, range(self._length))

    def where(self, names: Collection[str], keep: Callable[[int], bool]) -> Iterator[TimelineRow]:
        """The rows of the steps `names` whose second passes `keep`, built only for those."""
        for i in self._indices(names):
            row = self._whole.get(i)
            if row is not None:
                if keep(row.t_s):
                    yield row
            elif keep(self._ints["t_s"][i]):
                yield self._row(i)

    def values(self, name: str, field: str) -> list[object]:
        """`field` of each of step `name`'s rows, in order, read from its column without
        building a row (the same values the rows would give)."""
        indices = self._indices((name,))
        if field == "name":
            values: list[object] = [name] * len(indices)
        elif field == "failures_by_kind":
            values = [{} for _ in indices]
        elif field in self._ints:
            values = list(map(self._ints[field].__getitem__, indices))
        elif field in self._texts:
            values = list(self._texts[field].many(indices))
        elif field in self._floats:
            floats = map(self._floats[field].__getitem__, indices)
            values = [None if value != value else value for value in floats]  # NaN: None
        elif field in FLOAT_FIELDS:
            values = [None] * len(indices)
        else:
            raise AttributeError(f"a timeline row has no field {field!r}")
        if self._whole:
            for position, index in enumerate(indices):
                row = self._whole.get(index)
                if row is not None:
                    values[position] = getattr(row, field)
        return values

    def _indices(self, names: Collection[str]) -> Sequence[int]:
        ids = {self._name_ids[name] for name in names if name in self._name_ids}
        if len(ids) == 1:
            return self._by_name[ids.pop()]
        return sorted(i for name_id in ids for i in self._by_name[name_id])

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
        # Already validated when stored: set the slots as the frozen dataclass's own __init__
        # would (through each slot's descriptor), without validating every field again.
        row: TimelineRow = object.__new__(TimelineRow)
        _SET_NAME(row, self._names[self._ints["name"][index]])
        _SET_KINDS(row, {})
        for put, ints in self._int_columns:
            put(row, ints[index])
        for put_none in self._absent:
            put_none(row, None)
        for put, floats in self._float_columns:
            value = floats[index]
            put(row, None if value != value else value)  # NaN: None
        for put, texts in self._text_columns:
            put(row, texts[index])
        return row


def _setter(name: str) -> Callable[[TimelineRow, object], None]:
    """The slot descriptor's `__set__` for field `name` (a frozen dataclass refuses setattr)."""
    setter: Callable[[TimelineRow, object], None] = TimelineRow.__dict__[name].__set__
    return setter


_SETTERS: Final = {name: _setter(name) for name in (*INT_FIELDS, *FLOAT_FIELDS, *TEXT_FIELDS)}
_SET_NAME: Final = _setter("name")
_SET_KINDS: Final = _setter("failures_by_kind")
