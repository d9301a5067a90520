"""The undo stack of a run: last started, first stopped, by construction.

Each step that starts something registers its undo on a Teardown (an ExitStack underneath), so
the teardown order is the reverse of the start order without hand-kept flags. Undo steps run
with SIGINT and SIGTERM held, so a second Ctrl-C cannot leave a toxic behind, and a step that
fails is logged and recorded as a `teardown_error` event without stopping the steps after it.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from types import TracebackType

from peakday.results.events import Event, TeardownError

log = logging.getLogger(__name__)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while tearing down; they are delivered once it is done."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class Teardown:
    def __init__(self, record: Callable[[Event], None], clock: Callable[[], float]) -> None:
        self._record = record
        self._clock = clock
        self._stack = ExitStack()

    def undo(self, what: str, step: Callable[[], None]) -> None:
        """Run `step` at teardown, before every undo registered earlier."""
        self._stack.callback(self._safely, what, step)

    def _safely(self, what: str, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception as exc:
            log.error("could not %s: %s", what, exc)
            self._record(TeardownError(wall=self._clock(), step=what, error=str(exc)))

    def __enter__(self) -> Teardown:
        self._stack.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        with signals_held():
            return bool(self._stack.__exit__(kind, value, traceback))
