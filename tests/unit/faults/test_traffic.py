"""Toxiproxy's per-proxy byte counters: parsing its Prometheus text, sampling it each second
through the TrafficProbe seam (a fake here), and turning the samples into per-second traffic."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from peakday.faults.connections import local_listen_ports, parse_established
from peakday.faults.traffic import (
    MetricsUnavailable,
    TrafficSampler,
    parse_proxy_metrics,
    traffic_from_records,
)

# What toxiproxy-server v2.12.0 -proxy-metrics served after one HTTP request through p1 (p2 idle).
REAL_V2_12_0 = """\
# HELP promhttp_metric_handler_errors_total Total number of internal errors encountered by the \
promhttp metric handler.
# TYPE promhttp_metric_handler_errors_total counter
promhttp_metric_handler_errors_total{cause="encoding"} 0
promhttp_metric_handler_errors_total{cause="gathering"} 0
# HELP toxiproxy_proxy_received_bytes_total The total bytes received on a given proxy link
# TYPE toxiproxy_proxy_received_bytes_total counter
toxiproxy_proxy_received_bytes_total{direction="downstream",listener="127.0.0.1:18997",\
proxy="p1",upstream="127.0.0.1:18998"} 4571
toxiproxy_proxy_received_bytes_total{direction="upstream",listener="127.0.0.1:18997",\
proxy="p1",upstream="127.0.0.1:18998"} 79
# HELP toxiproxy_proxy_sent_bytes_total The total bytes sent on a given proxy link
# TYPE toxiproxy_proxy_sent_bytes_total counter
toxiproxy_proxy_sent_bytes_total{direction="downstream",listener="127.0.0.1:18997",\
proxy="p1",upstream="127.0.0.1:18998"} 4571
toxiproxy_proxy_sent_bytes_total{direction="upstream",listener="127.0.0.1:18997",\
proxy="p1",upstream="127.0.0.1:18998"} 79
"""


def test_the_byte_counters_are_read_per_proxy_and_direction_from_real_output() -> None:
    assert parse_proxy_metrics(REAL_V2_12_0) == {
        "p1": {
            "upstream_received": 79.0,
            "upstream_sent": 79.0,
            "downstream_received": 4571.0,
            "downstream_sent": 4571.0,
        }
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", {}, id="empty: no proxy has carried anything yet"),
        pytest.param("# HELP x\nnot a metric line\n", {}, id="comments-and-junk"),
        pytest.param(
            'toxiproxy_proxy_received_bytes_total{direction="upstream",proxy="a \\"b\\""} 1.5e3',
            {"a \"b\"": {"upstream_received": 1500.0, "upstream_sent": 0.0,
                         "downstream_received": 0.0, "downstream_sent": 0.0}},
            id="escaped-label-and-exponent",
        ),
        pytest.param(
            'toxiproxy_proxy_received_bytes_total{direction="sideways",proxy="a"} 3\n'
            'toxiproxy_proxy_received_bytes_total{proxy="a"} 3\n'
            'toxiproxy_proxy_received_bytes_total{direction="upstream",proxy="a"} NaN\n'
            'toxiproxy_toxic_something_total{direction="upstream",proxy="a"} 3',
            {},
            id="unknown-direction-missing-label-nan-other-metric",
        ),
    ],
)  # fmt: skip
def test_parsing_skips_what_it_does_not_know(
    text: str, expected: dict[str, dict[str, float]]
) -> None:
    assert parse_proxy_metrics(text) == expected


class FakeProbe:
    """Counters that grow by 100 bytes a reading; `fail_at` readings raise; `unavailable`
    answers like a server without -proxy-metrics."""

    def __init__(self, unavailable: bool = False, fail_at: tuple[int, ...] = ()) -> None:
        self.reads = 0
        self.unavailable = unavailable
        self.fail_at = fail_at

    def read(self) -> dict[str, dict[str, float]]:
        self.reads += 1
        if self.unavailable:
            raise MetricsUnavailable("Toxiproxy answered 404 at '/metrics'.")
        if self.reads in self.fail_at:
            raise ConnectionError("refused")
        return {"a": {"upstream_received": 100.0 * self.reads}}


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_sampler_writes_a_reading_at_start_each_interval_and_at_stop(tmp_path: Path) -> None:
    path = tmp_path / "traffic.jsonl"
    probe = FakeProbe(fail_at=(2,))
    sampler = TrafficSampler(probe, path, ["a", "idle"], interval_s=0.01)
    sampler.start()
    assert len(lines(path)) == 1  # read before returning: the base of the first second
    deadline = time.monotonic() + 5.0
    while probe.reads < 4 and time.monotonic() < deadline:
        time.sleep(0.005)
    sampler.stop()
    records = lines(path)
    assert records[0]["measured"] is True
    assert records[0]["proxies"] == {
        "a": {"upstream_received": 100.0, "upstream_sent": 0.0,
              "downstream_received": 0.0, "downstream_sent": 0.0},
        "idle": {"upstream_received": 0.0, "upstream_sent": 0.0,
                 "downstream_received": 0.0, "downstream_sent": 0.0},
    }  # fmt: skip
    assert "error" in records[1] and "refused" in str(records[1]["error"])  # one reading lost
    assert len(records) == probe.reads  # the last one taken by stop()


def test_a_server_without_metrics_is_recorded_once_and_not_asked_again(tmp_path: Path) -> None:
    path = tmp_path / "traffic.jsonl"
    probe = FakeProbe(unavailable=True)
    sampler = TrafficSampler(probe, path, ["a"], interval_s=0.01)
    sampler.start()
    sampler.stop()
    assert probe.reads == 1
    [record] = lines(path)
    assert record["measured"] is False and "404" in str(record["detail"])


def reading(wall: float, **received: float) -> dict[str, object]:
    return {
        "wall": wall,
        "measured": True,
        "proxies": {
            name: {"upstream_received": value, "downstream_received": 2 * value}
            for name, value in received.items()
        },
    }


def test_bytes_between_two_readings_are_spread_over_the_seconds_between_them() -> None:
    t0 = 1000.0
    records = [reading(t0 - 0.5, a=0), reading(t0 + 1.5, a=200), reading(t0 + 2.5, a=200)]
    traffic = traffic_from_records(records, ["a"], t0, 3.0)
    assert traffic.measured
    [proxy] = traffic.proxies
    assert [s.upstream_bytes for s in proxy.seconds] == [100.0, 50.0, 0.0]  # -0.5..0 clipped
    assert [s.downstream_bytes for s in proxy.seconds] == [200.0, 100.0, 0.0]
    assert (proxy.upstream_bytes, proxy.downstream_bytes) == (150.0, 300.0)


def test_a_counter_that_starts_again_counts_from_zero_and_failed_readings_are_skipped() -> None:
    t0 = 0.0
    records = [
        reading(0.0, a=500),
        {"wall": 1.0, "error": "ConnectionError: refused"},
        reading(2.0, a=40),  # the proxy was recreated: 40 bytes since
    ]
    [proxy] = traffic_from_records(records, ["a"], t0, 2.0).proxies
    assert proxy.upstream_bytes == 40.0


@pytest.mark.parametrize(
    ("records", "why"),
    [
        pytest.param([], "fewer than twice", id="no-file"),
        pytest.param([reading(0.0, a=1)], "fewer than twice", id="one-reading"),
        pytest.param(
            [{"wall": 0.0, "measured": False, "detail": "Toxiproxy answered 404"}],
            "404",
            id="no-metrics",
        ),
    ],
)
def test_without_two_readings_traffic_is_not_measured_and_says_why(
    records: list[dict[str, object]], why: str
) -> None:
    traffic = traffic_from_records(records, ["a"], 0.0, 10.0)
    assert not traffic.measured
    assert why in traffic.detail


def test_start_and_stop_alone_give_two_readings_so_a_short_run_is_still_measured(
    tmp_path: Path,
) -> None:
    path = tmp_path / "traffic.jsonl"
    probe = FakeProbe()
    sampler = TrafficSampler(probe, path, ["a"], interval_s=60.0)
    sampler.start()
    sampler.stop()
    records = lines(path)
    assert probe.reads == 2
    assert [r["proxies"]["a"]["upstream_received"] for r in records] == [100.0, 200.0]  # type: ignore[index]


PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:4E35 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:4E35 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 0100007F:C350 0100007F:4E35 01 00000000:00000000 00:00000000 00000000     0        0 3 1
   3: 0100007F:4E35 0100007F:C351 01 00000000:00000000 00:00000000 00000000     0        0 4 1
   4: 0100007F:4E35 0100007F:C352 06 00000000:00000000 00:00000000 00000000     0        0 5 1
   5: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 6 1
"""


def test_established_connections_are_counted_on_the_accepting_side_only() -> None:
    # 0x4E35 = 20021 (the proxy): two accepted; its listener, a TIME_WAIT and the client's own
    # sockets (local 0xC350) and Toxiproxy's upstream dial (remote 0x1F90) are not counted
    assert parse_established(PROC_NET_TCP, [20021, 8080]) == {20021: 2, 8080: 0}


def test_only_proxies_listening_on_this_machine_get_their_connections_counted() -> None:
    listen = {"a": "127.0.0.1:20021", "b": "0.0.0.0:20022", "c": "10.0.0.5:20023", "d": "junk"}
    assert local_listen_ports(listen) == {"a": 20021, "b": 20022}


def test_a_connection_held_open_shows_in_the_seconds_it_was_seen() -> None:
    t0 = 0.0
    records = [
        {"wall": w, "measured": True, "proxies": {"a": {"upstream_received": 0, "connections": n}}}
        for w, n in ((0.2, 0), (1.2, 3), (2.2, 1), (3.2, 0))
    ]
    [proxy] = traffic_from_records(records, ["a"], t0, 4.0).proxies
    assert [s.connections for s in proxy.seconds] == [0, 3, 1, 0]
    assert (proxy.max_connections, proxy.upstream_bytes) == (3, 0.0)
    [blind] = traffic_from_records([reading(0.0, a=0), reading(1.0, a=5)], ["a"], t0, 1.0).proxies
    assert (blind.max_connections, blind.seconds[0].connections) == (None, None)
