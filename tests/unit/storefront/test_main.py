from __future__ import annotations

from pathlib import Path

import pytest

from peakday.storefront.__main__ import build_app, parse_settings, server_config
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
        ["labels", "--port", "1", "--data-dir", "d", "--auth-url", "https://auth:443"],
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
        "https-auth-url",
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
