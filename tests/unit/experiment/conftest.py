from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def smoke_text() -> str:
    return (FIXTURES / "smoke.yaml").read_text(encoding="utf-8")
