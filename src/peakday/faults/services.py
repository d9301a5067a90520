"""The seam for service faults: what a platform does to one named service of the storefront.

The local platform implements it with signals on processes, the Docker platform with the SDK;
unit tests use a fake that records calls.
"""

from __future__ import annotations

from typing import Protocol

from peakday.experiment.models import ServiceAction


class ServiceController(Protocol):
    def kill(self, service: str) -> None:
        """Stop the service at once (SIGKILL); `start` brings it back."""
        ...

    def stop(self, service: str) -> None:
        """Stop the service gracefully (SIGTERM, then SIGKILL after a short grace)."""
        ...

    def start(self, service: str) -> None:
        """Start a stopped or killed service again, same command and port; do not wait."""
        ...

    def pause(self, service: str) -> None:
        """Freeze every process of the service (SIGSTOP / cgroup freezer)."""
        ...

    def unpause(self, service: str) -> None: ...

    def restart(self, service: str) -> None:
        """Stop (gracefully) and start again."""
        ...


# Each action, and the call that ends it when the fault's window closes (None: nothing to undo).
REVERT_OF: dict[ServiceAction, str | None] = {
    "kill": "start",
    "stop": "start",
    "pause": "unpause",
    "restart": None,
}


def apply_action(controller: ServiceController, action: ServiceAction, service: str) -> None:
    getattr(controller, action)(service)


def revert_action(controller: ServiceController, action: ServiceAction, service: str) -> bool:
    """Undo `action`; False when there was nothing to undo."""
    revert = REVERT_OF[action]
    if revert is None:
        return False
    getattr(controller, revert)(service)
    return True
