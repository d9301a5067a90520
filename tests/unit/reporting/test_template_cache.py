"""The report template is compiled once per user, and a broken cache only means compiling again."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest

from peakday.reporting import html
from peakday.reporting.html import render_html
from peakday.reporting.template_cache import template_cache
from peakday.results.model import Result


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The system temp folder is `tmp_path` (where Jinja makes its per-user cache folder), and
    every test starts with a new Jinja environment, as a new process would."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    html.environment.cache_clear()
    yield tmp_path
    html.environment.cache_clear()


def cache_files(root: Path) -> list[Path]:
    return sorted((root / f"_jinja2-cache-{os.getuid()}").glob("peakday-*.cache"))


def test_a_second_process_renders_from_the_cache_without_compiling(
    temp_root: Path, smoke_result: Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = render_html(smoke_result)
    assert len(cache_files(temp_root)) == 2  # report.html.j2 and the report.css it includes

    html.environment.cache_clear()  # a new process: a new environment, the same cache

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("the template was compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert render_html(smoke_result) == first


def test_a_cut_off_cache_file_means_compiling_again(temp_root: Path, smoke_result: Result) -> None:
    first = render_html(smoke_result)
    wholes = {cached: cached.read_bytes() for cached in cache_files(temp_root)}
    for cached, whole in wholes.items():
        cached.write_bytes(whole[: len(whole) // 2])  # Jinja's header intact, the code cut off
    html.environment.cache_clear()
    assert render_html(smoke_result) == first
    assert {cached: cached.read_bytes() for cached in wholes} == wholes  # written again, whole


def test_a_cache_folder_that_cannot_be_written_means_compiling_every_time(
    temp_root: Path, smoke_result: Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = temp_root / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setattr(html, "template_cache", lambda: template_cache(str(blocker)))
    first = render_html(smoke_result)
    html.environment.cache_clear()
    assert render_html(smoke_result) == first
    assert blocker.read_text() == "a file where the cache folder would be"


def test_no_safe_temp_folder_means_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing" / "deeper"))
    assert template_cache() is None
