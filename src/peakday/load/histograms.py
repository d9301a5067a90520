"""Per-step, per-second latency histograms and failure counts, and the metrics file they travel in.

Pure: no Locust, no gevent, no I/O, so the orchestrator can import it. The Locust plugin records
into a `StepSecondRecorder`; the orchestrator parses the JSONL with `parse_metrics_jsonl` and merges
records exactly (histograms add; percentiles are never averaged).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, get_args

from hdrh.histogram import HdrHistogram

LOWEST_TRACKABLE_US: Final = 1
HIGHEST_TRACKABLE_US: Final = 3_600_000_000  # one hour
SIGNIFICANT_DIGITS: Final = 3

FailureKind = Literal["http_4xx", "http_5xx", "timeout", "connection", "other"]
FAILURE_KINDS: Final[tuple[FailureKind, ...]] = get_args(FailureKind)

# Ordered: the first rule naming a class in the exception's MRO wins. Matching by qualified name
# keeps this module free of requests/urllib3/gevent imports and copes with Locust unwrapping
# requests' errors down to urllib3's or the socket's own exception.
_FAILURE_RULES: Final[tuple[tuple[str, FailureKind], ...]] = (
    # urllib3 derives NewConnectionError from ConnectTimeoutError for compatibility, yet it means
    # refused or unreachable, so it must be looked at before the timeout rules.
    ("urllib3.exceptions.NewConnectionError", "connection"),
    ("requests.exceptions.Timeout", "timeout"),  # ConnectTimeout is also a ConnectionError
    ("urllib3.exceptions.TimeoutError", "timeout"),
    ("builtins.TimeoutError", "timeout"),  # socket.timeout is an alias
    ("gevent.timeout.Timeout", "timeout"),
    ("requests.exceptions.ConnectionError", "connection"),
    ("requests.exceptions.ChunkedEncodingError", "connection"),  # body cut off mid-response
    ("urllib3.exceptions.ProtocolError", "connection"),
    ("http.client.IncompleteRead", "connection"),
    ("builtins.ConnectionError", "connection"),  # refused, reset, aborted, RemoteDisconnected
    # requests' errors derive from OSError; the rest (HTTPError, InvalidURL...) are not transport.
    ("requests.exceptions.RequestException", "other"),
    ("builtins.OSError", "connection"),  # socket.gaierror (DNS), unreachable network
)
_MAX_CHAIN_DEPTH: Final = 6


def empty_histogram() -> HdrHistogram:
    """A latency histogram in microseconds: 1 us .. 1 h at 3 significant digits."""
    return HdrHistogram(LOWEST_TRACKABLE_US, HIGHEST_TRACKABLE_US, SIGNIFICANT_DIGITS)


def latency_us_from_ms(response_time_ms: float) -> int:
    """Locust reports milliseconds as a float; histograms count whole microseconds."""
    return max(0, round(response_time_ms * 1000.0))


def encode_histogram(histogram: HdrHistogram) -> str:
    """The compressed, base64 HdrHistogram V2 form ('HISTF...')."""
    encoded: bytes = histogram.encode()
    return encoded.decode("ascii")


def decode_histogram(histogram_b64: str) -> HdrHistogram:
    try:
        histogram: HdrHistogram = HdrHistogram.decode(histogram_b64)
    except Exception as error:  # hdrh raises TypeError, zlib.error and its own cookie errors
        raise ValueError(f"cannot decode histogram {histogram_b64[:40]!r}: {error}") from error
    return histogram


def merge_histograms(encoded: Iterable[str]) -> HdrHistogram:
    """Add encoded histograms into one; counts add exactly, so percentiles stay exact-to-HDR."""
    merged = empty_histogram()
    for histogram_b64 in encoded:
        merged.add(decode_histogram(histogram_b64))
    return merged


@dataclass(frozen=True)
class LatencySummary:
    """Percentiles in milliseconds (HDR highest-equivalent values, so never under-reported)."""

    count: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float


_SUMMARY_PERCENTILES: Final = (50.0, 90.0, 95.0, 99.0, 99.9)


def percentile_ms(histogram: HdrHistogram, percentile: float) -> float | None:
    """The value at `percentile` (0..100) in ms, or None for an empty histogram."""
    if histogram.get_total_count() == 0:
        return None
    value_us: int = histogram.get_value_at_percentile(percentile)
    return value_us / 1000.0


def summarize(histogram: HdrHistogram) -> LatencySummary | None:
    """p50/p90/p95/p99/p99.9/max in ms in one pass over the counts; None when empty."""
    count: int = histogram.get_total_count()
    if count == 0:
        return None
    values_us: dict[float, int] = histogram.get_percentile_to_value_dict(list(_SUMMARY_PERCENTILES))
    p50, p90, p95, p99, p999 = (values_us[p] / 1000.0 for p in _SUMMARY_PERCENTILES)
    max_ms = histogram.get_max_value() / 1000.0
    return LatencySummary(count, p50, p90, p95, p99, p999, max_ms)


def _exception_chain(exception: BaseException) -> Iterable[BaseException]:
    """The exception, then what it wraps: urllib3's MaxRetryError.reason, __cause__, __context__."""
    seen: set[int] = set()
    pending: list[BaseException] = [exception]
    while pending and len(seen) < _MAX_CHAIN_DEPTH:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (getattr(current, "reason", None), current.__cause__, current.__context__):
            if isinstance(inner, BaseException):
                pending.append(inner)


def _classify_exception(exception: BaseException) -> FailureKind | None:
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in type(exception).__mro__}
    for name, kind in _FAILURE_RULES:
        if name in names:
            return kind
    return None


def classify_failure(exception: BaseException | None, status_code: int | None) -> FailureKind:
    """Why a request failed: an HTTP error status wins; else the transport error; else "other".

    `status_code` is 0 or None when no response arrived (Locust's convention).
    """
    if status_code is not None and 400 <= status_code <= 499:
        return "http_4xx"
    if status_code is not None and 500 <= status_code <= 599:
        return "http_5xx"
    if exception is None:
        return "other"
    for link in _exception_chain(exception):
        kind = _classify_exception(link)
        if kind is not None:
            return kind
    return "other"


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
    """What one step (request name) did in one second, by request start time since load start.

    Several records may share a key (t_s, step): a request finishing after its second was written
    out lands in a new record. Merge them with `merge_step_seconds`; all counts add exactly.
    `requests` counts every request, failed or not, and equals the histogram's total count.
    """

    t_s: int
    step: str
    requests: int
    failures: Mapping[str, int]
    histogram_b64: str
    out_of_range: int = 0

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

    def to_json_dict(self) -> dict[str, object]:
        return {
            "kind": "metrics",
            "t_s": self.t_s,
            "step": self.step,
            "requests": self.requests,
            "failures": dict(self.failures),
            "histogram_b64": self.histogram_b64,
            "out_of_range": self.out_of_range,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, object]) -> StepSecond:
        t_s, step, requests = data.get("t_s"), data.get("step"), data.get("requests")
        failures, histogram_b64 = data.get("failures", {}), data.get("histogram_b64")
        out_of_range = data.get("out_of_range", 0)
        if not (
            isinstance(t_s, int)
            and isinstance(step, str)
            and isinstance(requests, int)
            and isinstance(failures, dict)
            and isinstance(histogram_b64, str)
            and isinstance(out_of_range, int)
        ):
            raise ValueError(f"not a metrics record: {dict(data)!r}")
        return cls(t_s, step, requests, failures, histogram_b64, out_of_range)


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
    return StepSecond(
        t_s=parts[0].t_s,
        step=parts[0].step,
        requests=sum(part.requests for part in parts),
        failures={kind: sum(part.failures[kind] for part in parts) for kind in FAILURE_KINDS},
        histogram_b64=encode_histogram(merge_histograms(part.histogram_b64 for part in parts)),
        out_of_range=sum(part.out_of_range for part in parts),
    )


def merge_by_key(records: Iterable[StepSecond]) -> dict[tuple[int, str], StepSecond]:
    """Exactly one record per (t_s, step), in key order."""
    grouped: dict[tuple[int, str], list[StepSecond]] = {}
    for record in records:
        grouped.setdefault(record.key, []).append(record)
    return {key: merge_step_seconds(grouped[key]) for key in sorted(grouped)}


class _Bucket:
    __slots__ = ("failures", "histogram", "out_of_range", "requests")

    def __init__(self) -> None:
        self.histogram = empty_histogram()
        self.requests = 0
        self.out_of_range = 0
        self.failures: dict[str, int] = {}


class StepSecondRecorder:
    """Accumulates requests into (second, step) buckets until they are drained as records.

    Mutable and not thread-safe: the Locust plugin drives it from one gevent loop.
    """

    def __init__(self) -> None:
        self._buckets: dict[tuple[int, str], _Bucket] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def record(self, t_s: int, step: str, latency_us: int, failure: FailureKind | None) -> None:
        bucket = self._buckets.get((t_s, step))
        if bucket is None:
            bucket = self._buckets[(t_s, step)] = _Bucket()
        bucket.requests += 1
        if latency_us > HIGHEST_TRACKABLE_US:
            # Still a request and still slow: count it at the ceiling rather than drop it.
            bucket.out_of_range += 1
            latency_us = HIGHEST_TRACKABLE_US
        bucket.histogram.record_value(max(0, latency_us))
        if failure is not None:
            bucket.failures[failure] = bucket.failures.get(failure, 0) + 1

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
            records.append(
                StepSecond(
                    t_s=key[0],
                    step=key[1],
                    requests=bucket.requests,
                    failures=bucket.failures,
                    histogram_b64=encode_histogram(bucket.histogram),
                    out_of_range=bucket.out_of_range,
                )
            )
        return records


# --- The metrics file: one JSON object per line, told apart by "kind". ---------------------------


@dataclass(frozen=True)
class GeneratorSample:
    """Health of the load generator: its CPU and how late its flush loop woke (event-loop lag)."""

    wall: float
    cpu_percent: float
    lag_ms: float
    users: int


@dataclass(frozen=True)
class MetricsLog:
    load_started_wall: float | None
    load_stopped_wall: float | None
    step_seconds: tuple[StepSecond, ...]
    generator: tuple[GeneratorSample, ...]
    truncated_tail: bool  # the last line was cut short (the writer was mid-line or killed)


def format_record(record: Mapping[str, object]) -> str:
    """One JSONL line, newline included."""
    return json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"


def load_started_record(wall: float) -> dict[str, object]:
    return {"kind": "load_started", "wall": wall}


def load_stopped_record(wall: float) -> dict[str, object]:
    return {"kind": "load_stopped", "wall": wall}


def generator_record(sample: GeneratorSample) -> dict[str, object]:
    return {
        "kind": "generator",
        "wall": sample.wall,
        "cpu_percent": sample.cpu_percent,
        "lag_ms": sample.lag_ms,
        "users": sample.users,
    }


def _number(data: Mapping[str, object], key: str, line_number: int) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"line {line_number}: {key!r} should be a number, got {value!r}")
    return float(value)


def parse_metrics_jsonl(text: str) -> MetricsLog:
    """Read a metrics file, tolerating a partial last line; unknown kinds are skipped."""
    started: float | None = None
    stopped: float | None = None
    step_seconds: list[StepSecond] = []
    generator: list[GeneratorSample] = []
    truncated = False
    lines = text.split("\n")
    for index, line in enumerate(lines):
        line_number = index + 1
        if not line.strip():
            continue
        is_unterminated_tail = index == len(lines) - 1
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            if is_unterminated_tail:
                truncated = True
                break
            raise ValueError(
                f"line {line_number} of the metrics file is not JSON: {error}"
            ) from error
        if not isinstance(data, dict):
            raise ValueError(f"line {line_number} of the metrics file is not an object: {line!r}")
        kind = data.get("kind")
        if kind == "load_started":
            started = _number(data, "wall", line_number)
        elif kind == "load_stopped":
            stopped = _number(data, "wall", line_number)
        elif kind == "metrics":
            try:
                step_seconds.append(StepSecond.from_json_dict(data))
            except ValueError as error:
                raise ValueError(f"line {line_number}: {error}") from error
        elif kind == "generator":
            generator.append(
                GeneratorSample(
                    wall=_number(data, "wall", line_number),
                    cpu_percent=_number(data, "cpu_percent", line_number),
                    lag_ms=_number(data, "lag_ms", line_number),
                    users=int(_number(data, "users", line_number)),
                )
            )
    return MetricsLog(started, stopped, tuple(step_seconds), tuple(generator), truncated)
