"""What the Locust side measures per second: step latencies and journey arrivals (pure).

The plugin records into a `StepSecondRecorder` and an `ArrivalRecorder`; the orchestrator merges
the records they drain exactly: counts and histograms add, percentiles are never averaged.

Latency is measured from each request's *intended* start. In the closed model that is its actual
start. In the open model a journey is planned to start at a set time; when no user was free it
starts late, and every request of that journey is charged the delay (corrected latency). The
latency from the actual start (uncorrected, what a closed-model tool reports) is kept alongside.
Seconds are counted by intended start, so a stall shows in the seconds it hit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import cast

from hdrh.histogram import HdrHistogram

from peakday.load.failures import FAILURE_KINDS, FailureKind
from peakday.load.histograms import (
    HIGHEST_TRACKABLE_US,
    decode_histogram,
    empty_histogram,
    encode_histogram,
    merge_histograms,
)


def _failure_counts(failures: Mapping[str, int]) -> Mapping[str, int]:
    unknown = sorted(set(failures) - set(FAILURE_KINDS))
    if unknown:
        raise ValueError(f"unknown failure kinds {unknown!r}; expected some of {FAILURE_KINDS!r}")
    counts: dict[str, int] = {kind: failures.get(kind, 0) for kind in FAILURE_KINDS}
    for kind, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(
                f"the count of {kind!r} failures must be a whole number, got {count!r}"
            )
    return MappingProxyType(counts)


@dataclass(frozen=True)
class StepSecond:
    """What one step (request name) did in one second, by intended start time since load start.

    Several records may share a key (t_s, step): a request finishing after its second was written
    out lands in a new record. Merge them with `merge_step_seconds`; all counts add exactly.
    `requests` counts every request, failed or not, and equals the histogram's total count.
    `histogram_b64` holds latency from the intended start; `uncorrected_histogram_b64` latency
    from the actual start, or "" when the two are the same (closed model).
    """

    t_s: int
    step: str
    requests: int
    failures: Mapping[str, int]
    histogram_b64: str
    out_of_range: int = 0
    uncorrected_histogram_b64: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "failures", _failure_counts(self.failures))

    @property
    def key(self) -> tuple[int, str]:
        return (self.t_s, self.step)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def histogram(self) -> HdrHistogram:
        return decode_histogram(self.histogram_b64)

    def uncorrected_b64(self) -> str:
        """Latency from the actual start; the main histogram when nothing was corrected."""
        return self.uncorrected_histogram_b64 or self.histogram_b64

    def to_json_dict(self) -> dict[str, object]:
        record: dict[str, object] = {
            "kind": "metrics",
            "t_s": self.t_s,
            "step": self.step,
            "requests": self.requests,
            "failures": dict(self.failures),
            "histogram_b64": self.histogram_b64,
            "out_of_range": self.out_of_range,
        }
        if self.uncorrected_histogram_b64:
            record["uncorrected_histogram_b64"] = self.uncorrected_histogram_b64
        return record

    @classmethod
    def from_json_dict(cls, data: Mapping[str, object]) -> StepSecond:
        t_s, step, requests = data.get("t_s"), data.get("step"), data.get("requests")
        failures, histogram_b64 = data.get("failures", {}), data.get("histogram_b64")
        out_of_range = data.get("out_of_range", 0)
        uncorrected = data.get("uncorrected_histogram_b64", "")
        if not (
            isinstance(t_s, int)
            and isinstance(step, str)
            and isinstance(requests, int)
            and isinstance(failures, dict)
            and isinstance(histogram_b64, str)
            and isinstance(out_of_range, int)
            and isinstance(uncorrected, str)
        ):
            raise ValueError(f"not a metrics record: {dict(data)!r}")
        return cls(t_s, step, requests, failures, histogram_b64, out_of_range, uncorrected)


def merge_step_seconds(records: Iterable[StepSecond]) -> StepSecond:
    """One record for a key from several; raises ValueError for none or for mixed keys."""
    parts = list(records)
    if not parts:
        raise ValueError("cannot merge zero metrics records")
    keys = {part.key for part in parts}
    if len(keys) != 1:
        raise ValueError(f"cannot merge metrics records of different keys {sorted(keys)!r}")
    if len(parts) == 1:
        return parts[0]
    corrected = any(part.uncorrected_histogram_b64 for part in parts)
    return StepSecond(
        t_s=parts[0].t_s,
        step=parts[0].step,
        requests=sum(part.requests for part in parts),
        failures={kind: sum(part.failures[kind] for part in parts) for kind in FAILURE_KINDS},
        histogram_b64=encode_histogram(merge_histograms(part.histogram_b64 for part in parts)),
        out_of_range=sum(part.out_of_range for part in parts),
        uncorrected_histogram_b64=(
            encode_histogram(merge_histograms(part.uncorrected_b64() for part in parts))
            if corrected
            else ""
        ),
    )


def merge_by_key(records: Iterable[StepSecond]) -> dict[tuple[int, str], StepSecond]:
    """Exactly one record per (t_s, step), in key order."""
    grouped: dict[tuple[int, str], list[StepSecond]] = {}
    for record in records:
        grouped.setdefault(record.key, []).append(record)
    return {key: merge_step_seconds(grouped[key]) for key in sorted(grouped)}


class _Bucket:
    """One (second, step): how many requests took each exact latency (us), and their failures.

    Counting exact values in a dict costs one dict update per request; the HdrHistogram is only
    built when the bucket is drained, one `record_value(value, count)` per distinct value. The
    histogram is the same as recording each request (HDR buckets only depend on the value), and
    a second has far fewer distinct microsecond latencies than requests under load."""

    __slots__ = ("corrected", "failures", "uncorrected")

    def __init__(self, open_model: bool) -> None:
        self.corrected: dict[int, int] = {}
        self.uncorrected: dict[int, int] | None = {} if open_model else None
        self.failures: dict[str, int] = {}


def _histogram_of(counts: dict[int, int]) -> tuple[HdrHistogram, int, int]:
    """The histogram of exact latency counts, its total, and how many were above the ceiling
    (recorded at the ceiling: still requests, and still slow).

    Adds each count at the HDR counts index of its value, computed as HdrHistogram's own
    `record_value` does (`_get_bucket_index`, `_get_sub_bucket_index`, `_counts_index`) but
    inline: about a quarter of its cost per value. `tests/unit/load/test_load_histograms.py`
    checks the encoded result equals recording every value with `record_value`."""
    histogram = empty_histogram()
    unit = histogram.unit_magnitude
    mask = histogram.sub_bucket_mask
    half_magnitude = histogram.sub_bucket_half_count_magnitude
    half_count = histogram.sub_bucket_half_count
    cells = histogram.counts
    total = out_of_range = 0
    lowest, highest = HIGHEST_TRACKABLE_US, 0
    for value_us, count in counts.items():
        total += count
        if value_us > HIGHEST_TRACKABLE_US:
            out_of_range += count
            value_us = HIGHEST_TRACKABLE_US
        elif value_us < 0:
            value_us = 0
        bucket = (value_us | mask).bit_length() - unit - half_magnitude - 1
        sub_bucket = value_us >> (bucket + unit)
        cells[((bucket + 1) << half_magnitude) + sub_bucket - half_count] += count
        lowest = min(lowest, value_us)
        highest = max(highest, value_us)
    if total:
        histogram.total_count = total
        histogram.min_value = lowest
        histogram.max_value = highest
    return histogram, total, out_of_range


class StepSecondRecorder:
    """Accumulates requests into (second, step) buckets until they are drained as records.

    With `open_model` each bucket also keeps latency from the actual start. Mutable and not
    thread-safe: the Locust plugin drives it from one gevent loop. `record` is on every
    request's path, so it only counts; histograms are built when a bucket is drained.
    """

    def __init__(self, open_model: bool = False) -> None:
        self._open_model = open_model
        self._buckets: dict[tuple[int, str], _Bucket] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def record(
        self,
        t_s: int,
        step: str,
        latency_us: int,
        failure: FailureKind | None,
        start_delay_us: int = 0,
    ) -> None:
        """One request: `latency_us` from its actual start; `start_delay_us` how late its
        journey started (open model), which the corrected latency adds."""
        bucket = self._buckets.get((t_s, step))
        if bucket is None:
            bucket = self._buckets[(t_s, step)] = _Bucket(self._open_model)
        counts = bucket.corrected
        if start_delay_us > 0:
            corrected_us = latency_us + start_delay_us
            counts[corrected_us] = counts.get(corrected_us, 0) + 1
        else:
            counts[latency_us] = counts.get(latency_us, 0) + 1
        uncorrected = bucket.uncorrected
        if uncorrected is not None:
            uncorrected[latency_us] = uncorrected.get(latency_us, 0) + 1
        if failure is not None:
            failures = bucket.failures
            failures[failure] = failures.get(failure, 0) + 1

    def drain_settled(self, now_s: float, grace_s: float) -> list[StepSecond]:
        """Records for every second that ended more than `grace_s` before `now_s` (load time)."""
        settled = [key for key in self._buckets if key[0] + 1 + grace_s <= now_s]
        return self._drain(settled)

    def drain_all(self) -> list[StepSecond]:
        return self._drain(list(self._buckets))

    def _drain(self, keys: list[tuple[int, str]]) -> list[StepSecond]:
        records = []
        for key in sorted(keys):
            bucket = self._buckets.pop(key)
            histogram, requests, out_of_range = _histogram_of(bucket.corrected)
            uncorrected_b64 = ""
            if bucket.uncorrected is not None:
                uncorrected_b64 = encode_histogram(_histogram_of(bucket.uncorrected)[0])
            records.append(
                StepSecond(
                    t_s=key[0],
                    step=key[1],
                    requests=requests,
                    failures=bucket.failures,
                    histogram_b64=encode_histogram(histogram),
                    out_of_range=out_of_range,
                    uncorrected_histogram_b64=uncorrected_b64,
                )
            )
        return records


@dataclass(frozen=True)
class ArrivalSecond:
    """Open model: journeys of one user class planned to start in one second, and how they did.

    `late` journeys started more than the tolerance after their planned time (no user was free);
    `not_started` ones were still waiting when the load ended. None is dropped silently.
    """

    t_s: int
    journey: str
    planned: int = 0
    started: int = 0
    late: int = 0
    not_started: int = 0
    max_start_delay_ms: float = 0.0

    @property
    def key(self) -> tuple[int, str]:
        return (self.t_s, self.journey)

    def to_json_dict(self) -> dict[str, object]:
        return {"kind": "arrivals", **{name: getattr(self, name) for name in _ARRIVAL_FIELDS}}

    @classmethod
    def from_json_dict(cls, data: Mapping[str, object]) -> ArrivalSecond:
        t_s, journey = data.get("t_s"), data.get("journey")
        delay = data.get("max_start_delay_ms", 0.0)
        counts = {name: data.get(name, 0) for name in _ARRIVAL_COUNTS}
        if not (
            _whole(t_s)
            and isinstance(journey, str)
            and all(_whole(count) for count in counts.values())
            and not isinstance(delay, bool)
            and isinstance(delay, int | float)
        ):
            raise ValueError(f"not an arrivals record: {dict(data)!r}")
        whole = {name: int(cast("int", count)) for name, count in counts.items()}
        return cls(
            cast("int", t_s),
            journey,
            planned=whole["planned"],
            started=whole["started"],
            late=whole["late"],
            not_started=whole["not_started"],
            max_start_delay_ms=float(delay),
        )


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_ARRIVAL_COUNTS = ("planned", "started", "late", "not_started")
_ARRIVAL_FIELDS = ("t_s", "journey", *_ARRIVAL_COUNTS, "max_start_delay_ms")


def merge_arrivals(records: Iterable[ArrivalSecond]) -> dict[tuple[int, str], ArrivalSecond]:
    """Exactly one record per (t_s, journey), in key order: counts add, the delay is the max."""
    merged: dict[tuple[int, str], ArrivalSecond] = {}
    for record in records:
        seen = merged.get(record.key)
        merged[record.key] = (
            record
            if seen is None
            else ArrivalSecond(
                t_s=record.t_s,
                journey=record.journey,
                planned=seen.planned + record.planned,
                started=seen.started + record.started,
                late=seen.late + record.late,
                not_started=seen.not_started + record.not_started,
                max_start_delay_ms=max(seen.max_start_delay_ms, record.max_start_delay_ms),
            )
        )
    return {key: merged[key] for key in sorted(merged)}


class ArrivalRecorder:
    """Counts planned, started, late and never-started journeys per (second, class)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[int, str], dict[str, float]] = {}

    def _bucket(self, t_s: int, journey: str) -> dict[str, float]:
        bucket = self._counts.get((t_s, journey))
        if bucket is None:
            bucket = self._counts[(t_s, journey)] = dict.fromkeys(_ARRIVAL_FIELDS[2:], 0)
        return bucket

    def planned(self, t_s: int, journey: str) -> None:
        self._bucket(t_s, journey)["planned"] += 1

    def started(self, t_s: int, journey: str, delay_ms: float, late: bool) -> None:
        bucket = self._bucket(t_s, journey)
        bucket["started"] += 1
        bucket["late"] += 1 if late else 0
        bucket["max_start_delay_ms"] = max(bucket["max_start_delay_ms"], round(delay_ms, 3))

    def not_started(self, t_s: int, journey: str) -> None:
        self._bucket(t_s, journey)["not_started"] += 1

    def drain_settled(self, now_s: float, grace_s: float) -> list[ArrivalSecond]:
        return self._drain([key for key in self._counts if key[0] + 1 + grace_s <= now_s])

    def drain_all(self) -> list[ArrivalSecond]:
        return self._drain(list(self._counts))

    def _drain(self, keys: list[tuple[int, str]]) -> list[ArrivalSecond]:
        drained = []
        for key in sorted(keys):
            counts = self._counts.pop(key)
            drained.append(
                ArrivalSecond(
                    t_s=key[0],
                    journey=key[1],
                    planned=int(counts["planned"]),
                    started=int(counts["started"]),
                    late=int(counts["late"]),
                    not_started=int(counts["not_started"]),
                    max_start_delay_ms=float(counts["max_start_delay_ms"]),
                )
            )
        return drained
