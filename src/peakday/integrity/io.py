"""The I/O of reconciliation: client confirmations written by the Locust journeys, and the
records in the checkout and labels SQLite stores of a finished run."""

from __future__ import annotations

import json
import logging
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path

from pydantic import ValidationError

from peakday.integrity.model import Confirmation, IntegrityReport, RecordKind, StoredRecord
from peakday.integrity.reconcile import Reconciler

log = logging.getLogger(__name__)

# Where each kind of record lives: service (its data dir), SQLite file, table.
STORES: Mapping[RecordKind, tuple[str, str, str]] = {
    "order": ("checkout", "checkout.sqlite3", "orders"),
    "label": ("labels", "labels.sqlite3", "labels"),
}


def read_confirmations(folder: Path) -> Iterator[Confirmation]:
    """Every confirmation in `folder`/*.jsonl (one file per Locust process), a line at a time.

    A torn last line (a process killed mid-write) is skipped, not fatal.
    """
    for path in confirmation_files(folder):
        with path.open(errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    yield Confirmation.model_validate(json.loads(line))
                except (ValueError, ValidationError) as exc:
                    log.warning("skipping unreadable confirmation %s:%d: %s", path, number, exc)


def confirmation_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


def read_store(database: Path, table: str, kind: RecordKind) -> list[StoredRecord]:
    """The records of one store; the service must have stopped (or at least committed)."""
    if not table.isidentifier():
        raise ValueError(f"Not a plain SQL table name: {table!r}.")
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        rows = conn.execute(f"SELECT record_id, subject, idempotency_key FROM {table}").fetchall()
    return [StoredRecord(kind=kind, id=row[0], subject=row[1], key=row[2]) for row in rows]


def check_run(confirmations_dir: Path, data_dirs: Mapping[str, str]) -> IntegrityReport:
    """Reconcile a finished run; a report with checked=False says why it could not be done.

    The records go through a scratch SQLite file, never all into memory at once.
    """
    stores: list[tuple[Path, str, RecordKind]] = []
    for kind, (service, filename, table) in STORES.items():
        if service not in data_dirs:
            return IntegrityReport(
                checked=False, detail=f"No data folder for {service!r} on this platform."
            )
        database = Path(data_dirs[service]) / filename
        if not database.exists():
            return IntegrityReport(checked=False, detail=f"The store {str(database)!r} is missing.")
        stores.append((database, table, kind))
    with (
        tempfile.TemporaryDirectory(prefix="peakday-integrity-") as scratch,
        Reconciler(Path(scratch) / "reconcile.sqlite3") as reconciler,
    ):
        reconciler.add_confirmations(read_confirmations(confirmations_dir))
        for database, table, kind in stores:
            try:
                reconciler.copy_store(database, table, kind)
            except sqlite3.Error as exc:
                return IntegrityReport(
                    checked=False, detail=f"Could not read {str(database)!r}: {exc}."
                )
        return reconciler.report(len(confirmation_files(confirmations_dir)))
