"""A ToxiproxyApi that acts only on what one run owns on a server the user runs.

The injector, the orchestrator's no-toxic-left check and the platform talk to a ToxiproxyApi
and call `reset()` when in doubt; on the user's own server a real reset would wipe their
unrelated proxies and toxics. ScopedToxiproxy stands at that seam instead: it knows the proxies
this run created or adopted and the toxics it added, writes each change to the run's ledger
before making it, and its reset, active_toxics and release act on those alone.
"""

from __future__ import annotations

import os

from peakday.errors import ToxiproxyError
from peakday.faults.ledger import LedgerEntry, ToxiproxyLedger, undo_outstanding
from peakday.faults.toxiproxy import ToxicSpec, ToxiproxyServerApi


class ScopedToxiproxy:
    """ToxiproxyApi over a shared server, limited to this run's proxies and toxics."""

    def __init__(self, server: ToxiproxyServerApi, ledger: ToxiproxyLedger, api: str) -> None:
        self._server = server
        self._ledger = ledger
        self._api = api
        self._created: set[str] = set()
        self._adopted: set[str] = set()
        self._added: set[tuple[str, str]] = set()  # (proxy, toxic) this run ever added
        self._disabled: set[str] = set()  # proxies this run disabled
        self._ledger.record(LedgerEntry("server", api=api, orchestrator_pid=os.getpid()))

    @property
    def owned(self) -> frozenset[str]:
        return frozenset(self._created | self._adopted)

    def version(self) -> str:
        return self._server.version()

    def create_proxy(self, name: str, listen: str, upstream: str) -> str:
        """Create a proxy of this run; one of that name already on the server is refused (it
        is someone else's: adopt it with existing: true, or name yours differently)."""
        if name in self._server.proxies():
            raise ToxiproxyError(
                f"The Toxiproxy server at {self._api} already has a proxy named {name!r}; "
                "peakday will not replace a proxy it did not create. Hint: name the proxy "
                f"differently, or write {name}: {{existing: true}} to fault the one there."
            )
        # Recorded first and kept even if the call fails (it may have reached the server): the
        # name was free, so a proxy of that name and upstream afterwards is this run's.
        self._ledger.record(LedgerEntry("proxy_created", proxy=name, upstream=upstream))
        self._created.add(name)
        return self._server.create_proxy(name, listen, upstream)

    def adopt_proxy(self, name: str) -> str:
        """Take a proxy that already exists on the server into this run; it is never deleted.
        Returns the address it listens on."""
        state = self._server.proxies()
        if name not in state:
            there = ", ".join(sorted(state)) or "none"
            raise ToxiproxyError(
                f"The Toxiproxy server at {self._api} has no proxy named {name!r} to adopt "
                f"(existing: true); it has: {there}. Hint: create it first, or remove "
                "existing: true and give an upstream so peakday creates it."
            )
        self._ledger.record(LedgerEntry("proxy_adopted", proxy=name))
        self._adopted.add(name)
        return state[name].listen

    def _require_owned(self, proxy: str) -> None:
        if proxy not in self.owned:
            raise ToxiproxyError(
                f"The proxy {proxy!r} on the Toxiproxy server at {self._api} is not one of this "
                "run's, so peakday will not change it. Hint: list it under external.proxies "
                "(with existing: true if it is already there)."
            )

    def add_toxic(self, proxy: str, toxic: ToxicSpec) -> None:
        self._require_owned(proxy)
        state = self._server.proxies().get(proxy)
        if state is not None and toxic.name in state.toxics:
            raise ToxiproxyError(
                f"The proxy {proxy!r} on the Toxiproxy server at {self._api} already has a toxic "
                f"named {toxic.name!r} that this run did not add. Hint: remove it, or check "
                "that no other peakday run is using this proxy."
            )
        # Recorded first and kept even if the call fails (it may have reached the server): the
        # name was free, so a toxic of that name afterwards is this run's to remove.
        self._ledger.record(LedgerEntry("toxic_added", proxy=proxy, toxic=toxic.name))
        self._added.add((proxy, toxic.name))
        self._server.add_toxic(proxy, toxic)

    def remove_toxic(self, proxy: str, toxic_name: str) -> None:
        self._require_owned(proxy)
        self._server.remove_toxic(proxy, toxic_name)
        self._ledger.record(LedgerEntry("toxic_removed", proxy=proxy, toxic=toxic_name))

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        self._require_owned(proxy)
        if not enabled:
            self._ledger.record(LedgerEntry("proxy_disabled", proxy=proxy))
            self._disabled.add(proxy)
        self._server.set_enabled(proxy, enabled)
        if enabled:
            self._ledger.record(LedgerEntry("proxy_enabled", proxy=proxy))

    def reset(self) -> None:
        """Remove the toxics this run added and enable the proxies it disabled; nothing else."""
        undo_outstanding(self._server, self._ledger, delete_created=False)

    def active_toxics(self) -> dict[str, list[str]]:
        """This run's toxics still on its proxies, and 'disabled' where it disabled one."""
        state = self._server.proxies()
        found: dict[str, list[str]] = {}
        for name in sorted(self.owned):
            proxy = state.get(name)
            if proxy is None:
                continue
            names = sorted(t for t in proxy.toxics if (name, t) in self._added)
            if not proxy.enabled and (name in self._disabled or name in self._created):
                names.append("disabled")
            found[name] = names
        return found

    def release(self) -> list[tuple[str, str]]:
        """At the end of the run: undo every toxic and disabling, delete the created proxies."""
        done = undo_outstanding(self._server, self._ledger, delete_created=True)
        self._created.clear()
        self._ledger.close_if_done()
        return list(done)
