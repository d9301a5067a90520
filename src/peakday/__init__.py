"""peakday: rehearse peak-day login-path failures with real load and real faults."""

from __future__ import annotations

__version__ = "0.1.0"
