"""Stop buttons: a person ends all faults, or the whole run, from the live dashboard.

A press is a `ManualStop`; `ManualStops` is the thread-safe mailbox between the dashboard's web
server (which posts presses) and the run's loop (which takes them once a tick and hands them to
`LiveGuard.manual_stop`). A press acts exactly like a stop condition with the same action: it is
recorded as a `StopRecord` (with who and when), so the one outcome rule makes the run `aborted`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from peakday.results.model import StopRecord

ManualAction = Literal["end_faults", "end_run"]
MANUAL_STOP_NAME = "manual-stop"
_ACTION_TEXT: dict[ManualAction, str] = {
    "end_faults": "end all faults now",
    "end_run": "end the run now",
}


@dataclass(frozen=True)
class ManualStop:
    action: ManualAction
    by: str  # who pressed: the name given, the address and the browser
    wall: float  # time.time() when the request came in


def manual_stop_record(stop: ManualStop, now_s: float) -> StopRecord:
    """The stop as the result records it: at the load time it was acted on."""
    at = datetime.fromtimestamp(stop.wall, UTC).isoformat(timespec="seconds")
    return StopRecord(
        name=MANUAL_STOP_NAME,
        condition=f"manual stop ({_ACTION_TEXT[stop.action]}) by {stop.by} at {at}",
        action=stop.action,
        fired_at_s=round(now_s, 3),
        breach_from_s=round(now_s, 3),
        breach_to_s=round(now_s, 3),
        manual_by=stop.by,
        manual_at=at,
    )


class ManualStops:
    """Presses waiting for the run's loop; each action is accepted once (a double press, or
    a second viewer pressing the same button, changes nothing)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: dict[ManualAction, ManualStop] = {}
        self._pending: list[ManualStop] = []
        self._closed = False

    def press(self, stop: ManualStop) -> bool:
        """True when this press is the first of its action and the run still takes presses."""
        with self._lock:
            if self._closed or stop.action in self._accepted:
                return False
            if stop.action == "end_faults" and "end_run" in self._accepted:
                return False  # the run's end rolled every fault back already
            self._accepted[stop.action] = stop
            self._pending.append(stop)
            return True

    def take(self) -> tuple[ManualStop, ...]:
        """The presses not yet acted on (cheap when there are none: called every loop turn)."""
        if not self._pending:
            return ()
        with self._lock:
            taken, self._pending = tuple(self._pending), []
            return taken

    def close(self) -> None:
        """The run is over: later presses are refused."""
        with self._lock:
            self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def accepted(self) -> dict[ManualAction, ManualStop]:
        with self._lock:
            return dict(self._accepted)
