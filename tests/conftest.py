from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Property tests check answers, not speed: on a shared 2-core CI machine one slow example must
# not fail them (speed targets live in bench/). Every other Hypothesis setting stays default.
settings.register_profile("peakday", deadline=None)
settings.load_profile("peakday")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo() -> Path:
    return REPO
