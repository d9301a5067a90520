"""One run's hold on a Compose project, shared by both compose platforms (the user's own project,
and the repository's storefront): the ledger written before anything changes, the containers
brought up, the Toxiproxy client, and the restore that undoes it all (compose_restore.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Container

from peakday.faults.services import ServiceController
from peakday.faults.toxiproxy import ToxiproxyApi, ToxiproxyHttpClient
from peakday.platforms.base import started_toxiproxy
from peakday.platforms.compose_cli import ComposeCli, ComposeTarget
from peakday.platforms.compose_restore import ComposeLedger, mark_restored, restore, write_ledger
from peakday.platforms.docker_client import ContainerEngine
from peakday.platforms.docker_services import DockerResourceProbe, DockerServices
from peakday.platforms.resources import ResourceProbe
from peakday.results.folder import RunFolder


class ComposeSession:
    """The state a compose platform keeps between start() and stop(), and the steps on it that
    both compose platforms take the same way."""

    def __init__(
        self,
        folder: RunFolder,
        cli: ComposeCli,
        engine: ContainerEngine,
        toxiproxy_client: Callable[[str, int], ToxiproxyApi] = ToxiproxyHttpClient,
    ) -> None:
        self.folder = folder
        self.cli = cli
        self.engine = engine
        self._toxiproxy_client = toxiproxy_client
        self._toxiproxy: ToxiproxyApi | None = None
        self.ledger: ComposeLedger | None = None
        # service -> its container, once the project is up
        self.containers: dict[str, str] = {}

    def toxiproxy(self) -> ToxiproxyApi:
        return started_toxiproxy(self._toxiproxy)

    def services(self) -> ServiceController:
        """kill/stop/pause/restart the project's containers (the docker platform's code)."""
        return DockerServices(self.engine, self.containers)

    def resource_probe(self, services: Container[str]) -> ResourceProbe:
        """CPU and memory of the containers of these services."""
        return DockerResourceProbe(
            self.engine, {s: c for s, c in self.containers.items() if s in services}
        )

    def up(
        self, ledger: ComposeLedger, *, pull: bool = False, build: bool = False
    ) -> ComposeTarget:
        """Write the ledger first (teardown and `peakday clean` restore from it alone), then bring
        the project up with peakday's override; returns that target."""
        self.ledger = ledger
        write_ledger(self.folder, ledger)
        target = ledger.with_override
        self.cli.up(target, pull=pull, build=build)
        self.containers = {s: st.container for s, st in self.cli.states(target).items()}
        return target

    def connect_toxiproxy(self, api: str) -> None:
        """Talk to the project's Toxiproxy at `api` (host:port) from now on."""
        host, port = api.rsplit(":", 1)
        self._toxiproxy = self._toxiproxy_client(host, int(port))

    def restore(self) -> list[str]:
        """Undo the run's changes as the ledger says; what was done, one line each. Safe to call
        twice (the second time does nothing)."""
        ledger, self.ledger = self.ledger, None
        self._toxiproxy = None
        if ledger is None:
            return []
        # Unpause first: compose cannot stop or recreate a paused container.
        for container in self.containers.values():
            with contextlib.suppress(Exception):
                if self.engine.status(container) == "paused":
                    self.engine.act(container, "unpause")
        done = restore(ledger, self.cli, self.engine)
        mark_restored(self.folder.compose_ledger, ledger)
        return done
