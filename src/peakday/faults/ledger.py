"""What a run did on a Toxiproxy server it does not own, written down as it happens.

A run that drives the user's own toxiproxy-server appends one JSON line per change (a proxy
created or adopted, a toxic added or removed, a proxy disabled or enabled, a proxy deleted)
*before* making it, so that after a SIGKILL `peakday clean` can undo exactly what is left and
nothing else. `outstanding` (pure) folds the lines into what is still to undo; `undo_outstanding`
undoes it against a server, both at the end of a run and in `peakday clean`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from peakday.faults.toxiproxy import ToxiproxyServerApi

EntryKind = Literal[
    "server",  # the first line: which server, and which process is running the run
    "proxy_created",
    "proxy_adopted",
    "toxic_added",
    "toxic_removed",
    "proxy_disabled",
    "proxy_enabled",
    "proxy_deleted",
]


@dataclass(frozen=True)
class LedgerEntry:
    kind: EntryKind
    proxy: str = ""
    toxic: str = ""
    upstream: str = ""  # proxy_created: what it forwards to, so clean deletes only that proxy
    api: str = ""  # server: http://host:port
    orchestrator_pid: int = 0  # server: the peakday process; clean leaves live runs alone

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v not in ("", 0)})


def read_ledger(path: Path) -> list[LedgerEntry]:
    """Every complete line of a ledger; a half-written last line (a kill mid-write) is skipped."""
    entries: list[LedgerEntry] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return entries
    for line in text.splitlines():
        with contextlib.suppress(ValueError, TypeError):
            entries.append(LedgerEntry(**json.loads(line)))
    return entries


@dataclass(frozen=True)
class Outstanding:
    """What a ledger says is still on the server and must be undone."""

    api: str = ""
    orchestrator_pid: int = 0
    created: Mapping[str, str] = field(default_factory=dict)  # proxy -> upstream
    adopted: tuple[str, ...] = ()
    toxics: tuple[tuple[str, str], ...] = ()  # (proxy, toxic), added and not removed
    disabled: tuple[str, ...] = ()  # disabled and not enabled again

    @property
    def empty(self) -> bool:
        return not (self.created or self.toxics or self.disabled)


def outstanding(entries: Iterable[LedgerEntry]) -> Outstanding:
    api, pid = "", 0
    created: dict[str, str] = {}
    adopted: dict[str, None] = {}
    toxics: dict[tuple[str, str], None] = {}
    disabled: dict[str, None] = {}
    for entry in entries:
        if entry.kind == "server":
            api, pid = entry.api, entry.orchestrator_pid
        elif entry.kind == "proxy_created":
            created[entry.proxy] = entry.upstream
        elif entry.kind == "proxy_adopted":
            adopted[entry.proxy] = None
        elif entry.kind == "toxic_added":
            toxics[(entry.proxy, entry.toxic)] = None
        elif entry.kind == "toxic_removed":
            toxics.pop((entry.proxy, entry.toxic), None)
        elif entry.kind == "proxy_disabled":
            disabled[entry.proxy] = None
        elif entry.kind == "proxy_enabled":
            disabled.pop(entry.proxy, None)
        elif entry.kind == "proxy_deleted":
            created.pop(entry.proxy, None)
            disabled.pop(entry.proxy, None)
            for key in [key for key in toxics if key[0] == entry.proxy]:
                toxics.pop(key)
    return Outstanding(api, pid, created, tuple(adopted), tuple(toxics), tuple(disabled))


class ToxiproxyLedger:
    """Appends ledger lines to a run folder's file, each flushed to disk before it returns.

    With a registry folder, the first line also leaves a pointer there (as pid files do), so
    `peakday clean` finds the ledger of a run written anywhere; it goes once nothing is left.
    """

    def __init__(self, path: Path, registry_dir: Path | None = None) -> None:
        self.path = path
        self._registry_dir = registry_dir
        self.entries: list[LedgerEntry] = read_ledger(path)

    def record(self, entry: LedgerEntry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(entry.to_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.entries.append(entry)
        pointer = self._pointer()
        if pointer is not None and not pointer.exists():
            pointer.parent.mkdir(parents=True, exist_ok=True)
            pointer.write_text(json.dumps({"toxiproxy_ledger": str(self.path.resolve())}))

    def outstanding(self) -> Outstanding:
        return outstanding(self.entries)

    def close_if_done(self) -> None:
        """Drop the registry pointer once nothing is left to undo."""
        pointer = self._pointer()
        if pointer is not None and self.outstanding().empty:
            pointer.unlink(missing_ok=True)

    def _pointer(self) -> Path | None:
        if self._registry_dir is None:
            return None
        return self._registry_dir / ledger_pointer_name(self.path)


def ledger_pointer_name(ledger_path: Path) -> str:
    digest = hashlib.sha256(str(ledger_path.resolve()).encode()).hexdigest()[:16]
    return f"{digest}.ledger.json"


def ledgers_in_registry(registry_dir: Path) -> list[Path]:
    """The ledgers registry pointers name (pid-file pointers are skipped)."""
    found: list[Path] = []
    if registry_dir.is_dir():
        for pointer in sorted(registry_dir.glob("*.ledger.json")):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                found.append(Path(json.loads(pointer.read_text())["toxiproxy_ledger"]))
    return found


def undo_outstanding(
    server: ToxiproxyServerApi, ledger: ToxiproxyLedger, *, delete_created: bool
) -> list[tuple[Literal["toxic", "proxy"], str]]:
    """Remove the toxics this ledger added, enable what it disabled and (with delete_created)
    delete the proxies it created; touch nothing else on the server. A proxy created by the
    run whose upstream changed since is someone else's now and is left alone. Returns what was
    removed or enabled again: ("toxic" or "proxy", a description)."""
    pending = ledger.outstanding()
    state = server.proxies()
    done: list[tuple[Literal["toxic", "proxy"], str]] = []
    to_delete = pending.created if delete_created else {}
    for proxy, toxic in pending.toxics:
        if proxy in to_delete:
            continue  # deleting the proxy removes its toxics
        if proxy in state and toxic in state[proxy].toxics:
            server.remove_toxic(proxy, toxic)
            done.append(("toxic", f"{toxic} on proxy {proxy}"))
        ledger.record(LedgerEntry("toxic_removed", proxy=proxy, toxic=toxic))
    for proxy in pending.disabled:
        if proxy in to_delete:
            continue
        if proxy in state and not state[proxy].enabled:
            server.set_enabled(proxy, True)
            done.append(("proxy", f"{proxy} enabled again"))
        ledger.record(LedgerEntry("proxy_enabled", proxy=proxy))
    for proxy, upstream in to_delete.items():
        found = state.get(proxy)
        if found is not None and found.upstream == upstream:
            server.delete_proxy(proxy)
            done.append(("proxy", f"{proxy} -> {upstream}"))
        ledger.record(LedgerEntry("proxy_deleted", proxy=proxy))
    return done
