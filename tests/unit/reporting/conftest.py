"""Fixtures: the saved results of sample_results.py."""

from __future__ import annotations

import pytest

from peakday.results.model import Result
from unit.reporting.sample_results import failing, hostile, load_smoke, open_model, scored


@pytest.fixture(scope="session")
def smoke_result() -> Result:
    return load_smoke()


@pytest.fixture(scope="session")
def failing_result(smoke_result: Result) -> Result:
    return failing(smoke_result)


@pytest.fixture(scope="session")
def scored_result(smoke_result: Result) -> Result:
    return scored(smoke_result)


@pytest.fixture(scope="session")
def hostile_result(smoke_result: Result) -> Result:
    return hostile(smoke_result)


@pytest.fixture(scope="session")
def open_model_result(smoke_result: Result) -> Result:
    return open_model(smoke_result)
