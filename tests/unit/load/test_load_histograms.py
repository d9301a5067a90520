from __future__ import annotations

import http.client
import itertools
import random
import socket

import pytest
import requests.exceptions
import urllib3.exceptions
from hypothesis import given, settings
from hypothesis import strategies as st

from peakday.load.failures import FAILURE_KINDS, classify_failure
from peakday.load.histograms import (
    HIGHEST_TRACKABLE_US,
    decode_histogram,
    empty_histogram,
    encode_histogram,
    latency_us_from_ms,
    merge_histograms,
    percentile_ms,
    summarize,
)
from peakday.load.metricsfile import (
    GeneratorSample,
    format_record,
    generator_record,
    load_started_record,
    load_stopped_record,
    parse_metrics_jsonl,
)
from peakday.load.records import (
    StepSecond,
    StepSecondRecorder,
    merge_by_key,
    merge_step_seconds,
)

PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9, 100.0)


def exact_percentile(samples: list[int], percentile: float) -> int:
    """Nearest rank, rounded the way HdrHistogram picks its target count."""
    ordered = sorted(samples)
    rank = max(1, int(percentile * len(ordered) / 100 + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def within_hdr_precision(measured_us: float, exact_us: int) -> bool:
    return abs(measured_us - exact_us) <= exact_us * 0.001 + 1


def record_all(samples: list[int], t_s: int = 0, step: str = "login") -> StepSecond:
    recorder = StepSecondRecorder()
    for latency_us in samples:
        recorder.record(t_s, step, latency_us, None)
    (record,) = recorder.drain_all()
    return record


latencies_us = st.lists(
    st.integers(min_value=0, max_value=HIGHEST_TRACKABLE_US), min_size=1, max_size=400
)


@settings(max_examples=60, deadline=None)
@given(samples=latencies_us, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_merged_parts_give_the_percentiles_of_all_samples(
    samples: list[int], cuts: list[int]
) -> None:
    bounds = sorted({0, len(samples), *(min(cut, len(samples)) for cut in cuts)})
    parts = [samples[lo:hi] for lo, hi in itertools.pairwise(bounds) if hi > lo]

    merged = merge_step_seconds(record_all(part) for part in parts)

    assert merged.requests == len(samples)
    histogram = merged.histogram()
    assert histogram.get_total_count() == len(samples)
    for percentile in PERCENTILES:
        measured_ms = percentile_ms(histogram, percentile)
        assert measured_ms is not None
        assert within_hdr_precision(measured_ms * 1000, exact_percentile(samples, percentile))


@settings(max_examples=30, deadline=None)
@given(samples=latencies_us)
def test_summary_matches_exact_percentiles(samples: list[int]) -> None:
    summary = summarize(record_all(samples).histogram())

    assert summary is not None
    assert summary.count == len(samples)
    pairs = zip(
        (summary.p50_ms, summary.p90_ms, summary.p95_ms, summary.p99_ms, summary.p999_ms),
        PERCENTILES,
        strict=False,
    )
    for measured_ms, percentile in pairs:
        assert within_hdr_precision(measured_ms * 1000, exact_percentile(samples, percentile))
    assert within_hdr_precision(summary.max_ms * 1000, max(samples))


def test_averaging_percentiles_would_be_wrong_but_merging_is_exact() -> None:
    fast = record_all([1_000] * 99)  # 99 requests at 1 ms
    slow = record_all([900_000])  # 1 request at 900 ms

    merged = merge_step_seconds([fast, slow]).histogram()

    assert percentile_ms(merged, 99.0) == pytest.approx(1.0, rel=0.001)
    assert percentile_ms(merged, 100.0) == pytest.approx(900.0, rel=0.001)


def test_encode_decode_round_trip_keeps_every_count() -> None:
    histogram = empty_histogram()
    for value in (0, 1, 999, 1_000, 123_456, 2_000_000, HIGHEST_TRACKABLE_US):
        histogram.record_value(value)

    decoded = decode_histogram(encode_histogram(histogram))

    assert decoded.get_total_count() == histogram.get_total_count()
    assert decoded.equals(histogram)


def test_empty_histogram_round_trips_and_summarises_to_none() -> None:
    decoded = decode_histogram(encode_histogram(empty_histogram()))

    assert decoded.get_total_count() == 0
    assert summarize(decoded) is None
    assert percentile_ms(decoded, 50.0) is None
    assert merge_histograms([encode_histogram(decoded)]).get_total_count() == 0


def test_decode_rejects_garbage_with_a_value_error() -> None:
    with pytest.raises(ValueError, match="cannot decode histogram"):
        decode_histogram("not a histogram")


def test_values_above_range_are_counted_as_requests_at_the_ceiling() -> None:
    recorder = StepSecondRecorder()
    recorder.record(3, "checkout", 5_000, None)
    recorder.record(3, "checkout", HIGHEST_TRACKABLE_US + 1, "timeout")
    recorder.record(3, "checkout", 10 * HIGHEST_TRACKABLE_US, "timeout")

    (record,) = recorder.drain_all()

    assert record.requests == 3
    assert record.out_of_range == 2
    assert record.failures["timeout"] == 2
    histogram = record.histogram()
    assert histogram.get_total_count() == 3
    assert percentile_ms(histogram, 100.0) == pytest.approx(HIGHEST_TRACKABLE_US / 1000, rel=0.001)


def test_negative_latency_is_recorded_as_zero() -> None:
    recorder = StepSecondRecorder()
    recorder.record(0, "login", -5, None)

    (record,) = recorder.drain_all()

    assert record.requests == 1
    assert record.out_of_range == 0
    assert record.histogram().get_max_value() == 0


@pytest.mark.parametrize(
    ("response_time_ms", "expected_us"),
    [(0.0, 0), (0.0004, 0), (1.0, 1_000), (200.1234, 200_123), (-1.0, 0)],
)
def test_latency_us_from_ms(response_time_ms: float, expected_us: int) -> None:
    assert latency_us_from_ms(response_time_ms) == expected_us


def test_recorder_keeps_steps_and_seconds_apart_and_counts_failures() -> None:
    recorder = StepSecondRecorder()
    recorder.record(0, "login", 1_000, None)
    recorder.record(0, "login", 2_000, "http_5xx")
    recorder.record(0, "checkout", 3_000, "connection")
    recorder.record(1, "login", 4_000, None)

    records = {record.key: record for record in recorder.drain_all()}

    assert set(records) == {(0, "login"), (0, "checkout"), (1, "login")}
    assert records[(0, "login")].requests == 2
    assert records[(0, "login")].failed == 1
    assert records[(0, "login")].failures["http_5xx"] == 1
    assert records[(0, "checkout")].failures["connection"] == 1
    assert len(recorder) == 0


def test_drain_settled_waits_until_the_second_ended_grace_ago() -> None:
    recorder = StepSecondRecorder()
    recorder.record(0, "login", 1_000, None)
    recorder.record(2, "login", 1_000, None)

    assert recorder.drain_settled(now_s=2.49, grace_s=1.5) == []
    settled = recorder.drain_settled(now_s=2.5, grace_s=1.5)

    assert [record.t_s for record in settled] == [0]
    assert len(recorder) == 1
    assert [record.t_s for record in recorder.drain_all()] == [2]


def test_a_late_request_for_a_drained_second_is_merged_back_exactly() -> None:
    recorder = StepSecondRecorder()
    recorder.record(0, "login", 1_000, None)
    first = recorder.drain_settled(now_s=10.0, grace_s=1.5)
    recorder.record(0, "login", 9_000_000, "timeout")  # started in second 0, finished much later
    late = recorder.drain_all()

    merged = merge_by_key([*first, *late])

    assert list(merged) == [(0, "login")]
    assert merged[(0, "login")].requests == 2
    assert merged[(0, "login")].failures["timeout"] == 1
    assert merged[(0, "login")].histogram().get_total_count() == 2


def test_merge_by_key_sorts_keys_and_merges_each_once() -> None:
    records = [record_all([5_000], t_s=1), record_all([1_000], t_s=0), record_all([2_000], t_s=1)]

    merged = merge_by_key(records)

    assert list(merged) == [(0, "login"), (1, "login")]
    assert merged[(1, "login")].requests == 2


def test_merge_step_seconds_refuses_mixed_keys_and_nothing() -> None:
    with pytest.raises(ValueError, match="different keys"):
        merge_step_seconds([record_all([1], t_s=0), record_all([1], t_s=1)])
    with pytest.raises(ValueError, match="zero"):
        merge_step_seconds([])


def test_step_second_json_round_trip() -> None:
    record = StepSecond(7, "label", 3, {"http_4xx": 1}, encode_histogram(empty_histogram()), 0)

    data = record.to_json_dict()

    assert data["kind"] == "metrics"
    assert data["failures"] == {kind: (1 if kind == "http_4xx" else 0) for kind in FAILURE_KINDS}
    assert StepSecond.from_json_dict(data) == record


@pytest.mark.parametrize(
    "broken",
    [
        {"t_s": "0"},
        {"failures": {"gremlins": 1}},
        {"failures": {"timeout": None}},
        {"failures": {"timeout": -1}},
        {"histogram_b64": None},
    ],
    ids=["t_s-not-int", "unknown-kind", "count-none", "count-negative", "no-histogram"],
)
def test_step_second_from_json_rejects_malformed_records(broken: dict[str, object]) -> None:
    data = {**record_all([1_000]).to_json_dict(), **broken}

    with pytest.raises(ValueError):
        StepSecond.from_json_dict(data)


class CatchResponseError(Exception):
    """Stands in for locust.exception.CatchResponseError without importing Locust."""


CatchResponseError.__module__ = "locust.exception"


def _wrapped_in_max_retry(reason: Exception) -> urllib3.exceptions.MaxRetryError:
    return urllib3.exceptions.MaxRetryError(None, "/login", reason)  # type: ignore[arg-type]


def _gevent_timeout() -> BaseException:
    timeout_class: type[BaseException] = type(
        "Timeout", (BaseException,), {"__module__": "gevent.timeout"}
    )
    return timeout_class()


def _stand_in(module: str, name: str, base: type[Exception] = Exception) -> type[Exception]:
    """An exception class named like geventhttpclient's, without importing gevent."""
    return type(name, (base,), {"__module__": module})


_GeventConnectionError = _stand_in("geventhttpclient.useragent", "ConnectionError")
_RetriesExceeded = _stand_in(
    "geventhttpclient.useragent", "RetriesExceeded", _GeventConnectionError
)
_HTTPParseError = _stand_in("_parser", "HTTPParseError", http.client.HTTPException)


def _retries_exceeded(original: BaseException) -> Exception:
    error = _RetriesExceeded("http://127.0.0.1/login")
    error.original = original  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("exception", "status_code", "expected"),
    [
        # FastHttpUser (geventhttpclient): a POST's timeout comes wrapped in RetriesExceeded;
        # a close or reset before a whole response is an HTTPParseError (HTTPConnectionClosed).
        (_retries_exceeded(TimeoutError("timed out")), 0, "timeout"),
        (
            _retries_exceeded(_stand_in("geventhttpclient.useragent", "EmptyResponse")()),
            0,
            "connection",
        ),
        (
            _stand_in("geventhttpclient.response", "HTTPConnectionClosed", _HTTPParseError)(),
            0,
            "connection",
        ),
        (
            _stand_in("locust.contrib.fasthttp", "LocustBadStatusCode", _GeventConnectionError)(),
            502,
            "http_5xx",
        ),
        (CatchResponseError("expected 201, got 401"), 401, "http_4xx"),
        (CatchResponseError("expected 201, got 503"), 503, "http_5xx"),
        (requests.exceptions.HTTPError("404 Client Error"), 404, "http_4xx"),
        (None, 500, "http_5xx"),
        (requests.exceptions.ReadTimeout("read timed out"), 0, "timeout"),
        (requests.exceptions.ConnectTimeout("connect timed out"), 0, "timeout"),
        (urllib3.exceptions.ConnectTimeoutError(None, "connect timed out"), 0, "timeout"),
        (urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out"), 0, "timeout"),  # type: ignore[arg-type]
        (TimeoutError("timed out"), 0, "timeout"),
        (socket.timeout("timed out"), None, "timeout"),  # noqa: UP041 - the old alias on purpose
        (_gevent_timeout(), 0, "timeout"),
        (urllib3.exceptions.NewConnectionError(None, "refused"), 0, "connection"),  # type: ignore[arg-type]
        (ConnectionRefusedError(111, "Connection refused"), 0, "connection"),
        (ConnectionResetError(104, "Connection reset by peer"), 0, "connection"),
        (http.client.RemoteDisconnected("closed without response"), 0, "connection"),
        (requests.exceptions.ConnectionError("aborted"), 0, "connection"),
        (requests.exceptions.ChunkedEncodingError("incomplete read"), 0, "connection"),
        (urllib3.exceptions.ProtocolError("Connection aborted."), 0, "connection"),
        (socket.gaierror(-2, "Name or service not known"), 0, "connection"),
        (_wrapped_in_max_retry(urllib3.exceptions.ConnectTimeoutError(None, "t")), 0, "timeout"),
        (_wrapped_in_max_retry(ConnectionRefusedError(111, "refused")), 0, "connection"),
        (requests.exceptions.HTTPError("no status"), None, "other"),
        (requests.exceptions.InvalidURL("bad url"), 0, "other"),
        (CatchResponseError("200 without an access_token"), 200, "other"),
        (ValueError("boom"), 0, "other"),
        (None, None, "other"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_classify_failure(
    exception: BaseException | None, status_code: int | None, expected: str
) -> None:
    assert classify_failure(exception, status_code) == expected


def test_classify_failure_follows_the_cause_chain() -> None:
    try:
        try:
            raise ConnectionResetError(104, "reset")
        except ConnectionResetError as error:
            raise RuntimeError("request failed") from error
    except RuntimeError as outer:
        assert classify_failure(outer, 0) == "connection"


def test_metrics_file_lines_parse_back() -> None:
    record = record_all([1_000, 2_000], t_s=2, step="checkout")
    text = "".join(
        [
            format_record(load_started_record(1000.0)),
            format_record(generator_record(GeneratorSample(1001.0, 12.5, 0.4, 10))),
            format_record(record.to_json_dict()),
            format_record({"kind": "from_the_future", "wall": 1.0}),
            format_record(load_stopped_record(1010.0)),
        ]
    )

    log = parse_metrics_jsonl(text)

    assert log.load_started_wall == 1000.0
    assert log.load_stopped_wall == 1010.0
    assert log.step_seconds == (record,)
    assert log.generator == (GeneratorSample(1001.0, 12.5, 0.4, 10),)
    assert not log.truncated_tail


def test_every_record_is_one_line() -> None:
    line = format_record(record_all(list(range(0, 5_000_000, 997))).to_json_dict())

    assert line.endswith("\n")
    assert line.count("\n") == 1


def test_parse_tolerates_a_partial_last_line_only() -> None:
    complete = format_record(load_started_record(1000.0)) + format_record(
        record_all([1_000]).to_json_dict()
    )
    partial = complete + format_record(record_all([2_000]).to_json_dict())[:40]

    log = parse_metrics_jsonl(partial)

    assert log.truncated_tail
    assert len(log.step_seconds) == 1
    with pytest.raises(ValueError, match="line 2"):
        parse_metrics_jsonl(format_record(load_started_record(1.0)) + '{"kind": \n' + complete)


def test_counting_exact_values_builds_the_histogram_recording_each_request_would() -> None:
    # The recorder counts exact microseconds per request and builds the HdrHistogram when the
    # second is drained; the result must equal recording every request into HdrHistogram.
    rng = random.Random(7)
    values = [int(rng.lognormvariate(7.5, 1.2)) for _ in range(20_000)]
    values += [0, 1, 2_047, 2_048, 2_049, 123_456_789, HIGHEST_TRACKABLE_US]
    recorder = StepSecondRecorder()
    direct = empty_histogram()
    for value in values:
        recorder.record(0, "login", value, None)
        direct.record_value(value)

    (record,) = recorder.drain_all()

    assert record.requests == len(values) == direct.get_total_count()
    assert record.histogram_b64 == encode_histogram(direct)
    built = record.histogram()
    for percentile in (0.0, 50.0, 90.0, 99.0, 99.9, 100.0):
        assert built.get_value_at_percentile(percentile) == direct.get_value_at_percentile(
            percentile
        )


def test_a_failure_message_set_over_a_transport_error_keeps_the_transport_kind() -> None:
    # catch_response + response.failure("..."): Locust reports a bare CatchResponseError, an
    # exception that wraps nothing (importing Locust here would gevent-patch the test process).
    message = Exception("HTTP 0: timed out")
    assert classify_failure(message, 0) == "other"
    assert classify_failure(message, 0, TimeoutError("timed out")) == "timeout"
    assert classify_failure(message, 0, ConnectionRefusedError(111, "refused")) == "connection"
    assert classify_failure(message, 503, TimeoutError("timed out")) == "http_5xx"
    assert classify_failure(message, 200, None) == "other"
