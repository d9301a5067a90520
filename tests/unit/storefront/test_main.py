from __future__ import annotations

import sys
from pathlib import Path

import pytest

from peakday.storefront.__main__ import build_app, configure_process, parse_settings, server_config
from peakday.storefront.profiles import PROFILES
from peakday.storefront.settings import StorefrontSettings


def test_auth_needs_no_auth_url(tmp_path: Path) -> None:
    settings = parse_settings(["auth", "--port", "8101", "--data-dir", str(tmp_path)])
    assert settings == StorefrontSettings(
        service="auth",
        data_dir=tmp_path,
        host="127.0.0.1",
        port=8101,
        resilience=PROFILES["standard"],
    )
    assert settings.database_path == tmp_path / "auth.sqlite3"


def test_checkout_with_all_options(tmp_path: Path) -> None:
    settings = parse_settings(
        [
            "checkout",
            "--host",
            "127.0.0.1",
            "--port",
            "8102",
            "--data-dir",
            str(tmp_path),
            "--auth-url",
            "http://127.0.0.1:18102",
            "--auth-timeout-s",
            "0.5",
        ]
    )
    assert settings.service == "checkout"
    assert settings.auth_url == "http://127.0.0.1:18102"
    assert settings.auth_timeout_s == 0.5
    assert settings.database_path == tmp_path / "checkout.sqlite3"


@pytest.mark.parametrize(
    "argv",
    [
        ["checkout", "--port", "1", "--data-dir", "d"],
        ["labels", "--port", "1", "--data-dir", "d", "--auth-url", "ftp://x"],
        ["labels", "--port", "1", "--data-dir", "d", "--auth-url", "127.0.0.1:9"],
        ["auth", "--port", "70000", "--data-dir", "d"],
        ["auth", "--port", "1", "--data-dir", "d", "--token-ttl-s", "0"],
        ["auth", "--port", "1", "--data-dir", "d", "--auth-timeout-s", "0"],
        ["payments", "--port", "1", "--data-dir", "d"],
        ["auth", "--data-dir", "d"],
    ],
    ids=[
        "checkout-without-auth-url",
        "non-http-auth-url",
        "auth-url-without-scheme",
        "port-out-of-range",
        "zero-ttl",
        "zero-timeout",
        "unknown-service",
        "no-port",
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_settings(argv)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("service", ["checkout", "labels"])
def test_build_app_for_each_service(tmp_path: Path, service: str) -> None:
    settings = parse_settings(
        [service, "--port", "1", "--data-dir", str(tmp_path), "--auth-url", "http://127.0.0.1:9"]
    )
    app = build_app(settings)
    assert app.title == f"peakday {service}"
    assert (tmp_path / f"{service}.sqlite3").exists()


def test_the_server_parses_http_in_c_and_runs_uvloop(tmp_path: Path) -> None:
    """httptools and uvloop are dependencies; uvicorn must pick them, not h11 and asyncio's loop
    (about a third of a checkout's server CPU, docs/benchmarks.md)."""
    pytest.importorskip("httptools")
    pytest.importorskip("uvloop")
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    settings = parse_settings(["auth", "--port", "0", "--data-dir", str(tmp_path)])

    async def app(_scope: object, _receive: object, _send: object) -> None:
        raise AssertionError("not served")

    config = server_config(settings, app)
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    assert config.get_loop_factory().__module__.startswith("uvloop")
    assert config.proxy_headers is False


def test_the_gil_switch_interval_is_short_by_default_and_settable(tmp_path: Path) -> None:
    base = ["auth", "--port", "0", "--data-dir", str(tmp_path)]
    assert parse_settings(base).gil_switch_interval_ms == 0.5
    assert parse_settings([*base, "--gil-switch-interval-ms", "5"]).gil_switch_interval_ms == 5
    before = sys.getswitchinterval()
    try:
        configure_process(parse_settings(base))
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    finally:
        sys.setswitchinterval(before)


@pytest.mark.parametrize("value", ["0", "-1", "1000"])
def test_a_gil_switch_interval_out_of_range_exits_2(tmp_path: Path, value: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_settings(
            ["auth", "--port", "0", "--data-dir", str(tmp_path), "--gil-switch-interval-ms", value]
        )
    assert exit_info.value.code == 2
