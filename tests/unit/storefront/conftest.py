"""Fixtures for the storefront tests; the test doubles live in fakes.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .fakes import FakeClock, FakeIntrospector


@pytest.fixture
def introspector() -> FakeIntrospector:
    return FakeIntrospector()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data"
    path.mkdir()
    yield path
