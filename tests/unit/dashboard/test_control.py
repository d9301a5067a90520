"""Who may view the dashboard and press its stop buttons: the token, the origin, the host, and a
double press that changes nothing; the real server is driven over HTTP on loopback."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from peakday.dashboard.control import Access, check_press, check_view, parse_bind
from peakday.dashboard.server import DashboardServer
from peakday.errors import UsageError
from peakday.results.folder import RunFolder
from peakday.scoring.manual import ManualStops

TOKEN = "s3cret-token"
LOCAL = Access(token=TOKEN, loopback=True)
NETWORK = Access(token=TOKEN, loopback=False)


def test_on_loopback_anyone_on_this_machine_may_view() -> None:
    assert check_view("127.0.0.1:8089", None, LOCAL) is None
    assert check_view("localhost:8089", None, LOCAL) is None


def test_on_loopback_another_host_name_is_refused_as_dns_rebinding() -> None:
    refused = check_view("evil.example:8089", TOKEN, LOCAL)
    assert refused is not None and refused.status == 403


@pytest.mark.parametrize("token", [None, "", "wrong"], ids=["none", "empty", "wrong"])
def test_off_loopback_viewing_needs_the_token(token: str | None) -> None:
    refused = check_view("10.0.0.5:8089", token, NETWORK)
    assert refused is not None and refused.status == 403
    assert check_view("10.0.0.5:8089", TOKEN, NETWORK) is None


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN + "x"])
def test_a_press_without_the_right_token_is_refused(token: str | None) -> None:
    refused = check_press("127.0.0.1:8089", "http://127.0.0.1:8089", token, LOCAL)
    assert refused is not None and refused.status == 403


def test_a_press_from_another_origin_is_refused_even_with_the_token() -> None:
    refused = check_press("127.0.0.1:8089", "http://evil.example", TOKEN, LOCAL)
    assert refused is not None and refused.status == 403
    assert check_press("127.0.0.1:8089", "http://127.0.0.1:8089", TOKEN, LOCAL) is None
    assert check_press("127.0.0.1:8089", None, TOKEN, LOCAL) is None  # curl sends no Origin


@pytest.mark.parametrize(
    ("given", "expected"),
    [("127.0.0.1:0", ("127.0.0.1", 0)), ("0.0.0.0:8089", ("0.0.0.0", 8089)),
     ("8089", ("127.0.0.1", 8089)), ("[::1]:9000", ("::1", 9000))],
)  # fmt: skip
def test_bind_addresses(given: str, expected: tuple[str, int]) -> None:
    assert parse_bind(given) == expected


def test_an_experiment_file_taken_for_the_address_gets_a_hint() -> None:
    with pytest.raises(UsageError, match="Put EXPERIMENT before"):
        parse_bind("experiments/smoke.yaml")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[DashboardServer, ManualStops]]:
    stops = ManualStops()
    server = DashboardServer(RunFolder(tmp_path), "127.0.0.1", 0, TOKEN, stops)
    server.start()
    yield server, stops
    server.stop()


def _post(
    server: DashboardServer, body: dict[str, str], headers: dict[str, str]
) -> tuple[int, dict[str, object]]:
    host, port = server.address
    connection = http.client.HTTPConnection(host, port, timeout=5)
    connection.request("POST", "/stop", json.dumps(body), headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def _origin(server: DashboardServer) -> dict[str, str]:
    host, port = server.address
    return {"Host": f"{host}:{port}", "Origin": f"http://{host}:{port}"}


def test_the_endpoint_refuses_a_press_without_the_token_and_nothing_changes(
    served: tuple[DashboardServer, ManualStops],
) -> None:
    server, stops = served
    status, _ = _post(server, {"action": "end_faults"}, _origin(server))
    assert status == 403
    status, _ = _post(server, {"action": "end_run"}, {**_origin(server), "X-Peakday-Token": "no"})
    assert status == 403
    evil = {**_origin(server), "Origin": "http://evil.example", "X-Peakday-Token": TOKEN}
    assert _post(server, {"action": "end_run"}, evil)[0] == 403
    assert stops.take() == () and stops.accepted() == {}


def test_a_double_press_is_one_stop_with_who_pressed(
    served: tuple[DashboardServer, ManualStops],
) -> None:
    server, stops = served
    headers = {**_origin(server), "X-Peakday-Token": TOKEN, "User-Agent": "Test/1.0"}
    first = _post(server, {"action": "end_faults", "who": "alice"}, headers)
    second = _post(server, {"action": "end_faults", "who": "bob"}, headers)
    assert (first[0], first[1]["accepted"]) == (202, True)
    assert (second[0], second[1]["accepted"], second[1]["already"]) == (200, False, True)
    (taken,) = stops.take()
    assert (taken.action, taken.by) == ("end_faults", "alice (127.0.0.1, Test/1.0)")
    assert _post(server, {"action": "stop-everything"}, headers)[0] == 400
    stops.close()
    assert _post(server, {"action": "end_run"}, headers)[0] == 409  # the run is over
    assert stops.take() == ()


def test_the_page_and_the_live_stream_are_served(
    served: tuple[DashboardServer, ManualStops],
) -> None:
    server, _ = served
    host, port = server.address
    connection = http.client.HTTPConnection(host, port, timeout=5)
    connection.request("GET", "/")
    page = connection.getresponse()
    assert page.status == 200 and b"end all faults now" in page.read()
    connection.request("GET", "/events")
    stream = connection.getresponse()
    assert stream.getheader("Content-Type") == "text/event-stream"
    assert stream.fp is not None
    assert stream.fp.readline() == b"retry: 1000\n"
    stream.fp.readline()
    assert json.loads(stream.fp.readline().removeprefix(b"data: "))["state"] == "waiting"


def test_a_replayed_run_cannot_be_stopped(tmp_path: Path) -> None:
    server = DashboardServer(RunFolder(tmp_path), "127.0.0.1", 0, TOKEN, None, replay=True)
    server.start()
    try:
        headers = {**_origin(server), "X-Peakday-Token": TOKEN}
        assert _post(server, {"action": "end_run"}, headers)[0] == 409
    finally:
        server.stop()


def test_the_page_sizes_chart_text_as_the_report_does() -> None:
    # The charts' labels are laid out for the report's 11 px in viewBox units; the page's own
    # 16 px (1.6 rem in projector mode) clipped the widest y-axis labels at the left edge.
    from peakday.dashboard.page import render_page

    page = render_page("t", replay=False)
    assert "svg.chart { display: block; font-size: 11px; }" in page
