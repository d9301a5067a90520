"""Reconciliation: every confirmed record must be stored exactly once.

lost                    a confirmed id that is not in the store, or is stored for another
                        subject than the user who was told about it (the first confirmation of
                        an id is the one that counts)
duplicated              for one (subject, idempotency key): every record beyond the first,
                        counting both stored ids and ids clients were confirmed with
unconfirmed_but_stored  stored, but never confirmed to a client (the client gave up while the
                        service committed); not an error, but the number a retrying client
                        with the same key should bring to zero

The work is done by SQLite, in memory for a few records or in a file for a whole run: a long
run confirms hundreds of thousands of orders, and holding them as Python objects made the
orchestrator's memory grow with run length (670 MB at the end of a 40-minute soak). Records go
in as they are read and the answers come out of SQL, so memory stays flat.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from peakday.integrity.model import (
    EXAMPLES_KEPT,
    Confirmation,
    IntegrityReport,
    KindIntegrity,
    RecordKind,
    StoredRecord,
)

KINDS: tuple[RecordKind, ...] = ("order", "label")

_SCHEMA = """
CREATE TABLE conf (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, id TEXT NOT NULL, key TEXT,
                   user TEXT NOT NULL, replayed INTEGER NOT NULL);
CREATE TABLE stored (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, id TEXT NOT NULL,
                     subject TEXT NOT NULL, key TEXT);
"""
_INDEXES = """
CREATE INDEX conf_by_id ON conf (kind, id, seq);
CREATE INDEX stored_by_id ON stored (kind, id, seq);
CREATE TEMP TABLE first_told AS
    SELECT c.kind, c.id, c.user FROM conf c
    JOIN (SELECT MIN(seq) AS seq FROM conf GROUP BY kind, id) f ON c.seq = f.seq;
CREATE TEMP TABLE last_stored AS
    SELECT s.kind, s.id, s.subject FROM stored s
    JOIN (SELECT MAX(seq) AS seq FROM stored GROUP BY kind, id) l ON s.seq = l.seq;
CREATE INDEX temp.last_stored_by_id ON last_stored (kind, id);
"""
_LOST = """
FROM first_told f LEFT JOIN last_stored s ON s.kind = f.kind AND s.id = f.id
WHERE f.kind = :kind AND (s.id IS NULL OR (f.user != '' AND s.subject != f.user))
"""
_DUPLICATE_KEYS = """
FROM (SELECT subject, key, COUNT(DISTINCT id) AS ids FROM (
        SELECT subject, key, id FROM stored WHERE kind = :kind AND key IS NOT NULL
        UNION ALL SELECT user, key, id FROM conf WHERE kind = :kind AND key IS NOT NULL)
      GROUP BY subject, key HAVING ids > 1)
"""
_COUNTS = """
SELECT (SELECT COUNT(*) FROM first_told WHERE kind = :kind),
       (SELECT COUNT(*) FROM stored WHERE kind = :kind),
       (SELECT COUNT(*) FROM last_stored s WHERE kind = :kind
            AND NOT EXISTS (SELECT 1 FROM conf c WHERE c.kind = :kind AND c.id = s.id)),
       (SELECT COUNT(*) FROM conf WHERE kind = :kind AND replayed)
"""


class Reconciler:
    """Confirmations and stored records in, an IntegrityReport out (`database`: a file for a
    whole run, memory by default)."""

    def __init__(self, database: Path | None = None) -> None:
        self._conn = sqlite3.connect(str(database) if database is not None else ":memory:")
        # Scratch data, rebuilt from the run's files if lost: no journal, no fsync.
        self._conn.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)

    def __enter__(self) -> Reconciler:
        return self

    def __exit__(self, *_: object) -> None:
        self._conn.close()

    def add_confirmations(self, confirmations: Iterable[Confirmation]) -> None:
        self._conn.executemany(
            "INSERT INTO conf (kind, id, key, user, replayed) VALUES (?, ?, ?, ?, ?)",
            ((c.kind, c.id, c.key, c.user, int(c.replayed)) for c in confirmations),
        )

    def add_stored(self, records: Iterable[StoredRecord]) -> None:
        self._conn.executemany(
            "INSERT INTO stored (kind, id, subject, key) VALUES (?, ?, ?, ?)",
            ((r.kind, r.id, r.subject, r.key) for r in records),
        )

    def copy_store(self, database: Path, table: str, kind: RecordKind) -> None:
        """A service's SQLite store, copied by SQLite itself (read-only; no row in Python)."""
        if not table.isidentifier():
            raise ValueError(f"Not a plain SQL table name: {table!r}.")
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as source:
            rows = source.execute(
                f"SELECT ?, record_id, subject, idempotency_key FROM {table}", (kind,)
            )
            self._conn.executemany(
                "INSERT INTO stored (kind, id, subject, key) VALUES (?, ?, ?, ?)", rows
            )

    def report(self, confirmation_files: int = 0) -> IntegrityReport:
        self._conn.commit()
        self._conn.executescript(_INDEXES)
        return IntegrityReport(
            checked=True,
            kinds=tuple(self._kind(kind) for kind in KINDS),
            confirmation_files=confirmation_files,
        )

    def _kind(self, kind: RecordKind) -> KindIntegrity:
        at = {"kind": kind, "kept": EXAMPLES_KEPT}
        sql = self._conn.execute
        (lost,) = sql(f"SELECT COUNT(*) {_LOST}", at).fetchone()
        lost_examples = sql(f"SELECT f.id {_LOST} ORDER BY f.id LIMIT :kept", at).fetchall()
        (duplicated,) = sql(f"SELECT COALESCE(SUM(ids - 1), 0) {_DUPLICATE_KEYS}", at).fetchone()
        duplicate_examples = sql(
            f"SELECT subject, key {_DUPLICATE_KEYS} ORDER BY subject, key LIMIT :kept", at
        ).fetchall()
        confirmed, stored, unconfirmed, replays = sql(_COUNTS, at).fetchone()
        return KindIntegrity(
            kind=kind,
            confirmed=confirmed,
            stored=stored,
            lost=lost,
            duplicated=duplicated,
            unconfirmed_but_stored=unconfirmed,
            replays=replays,
            lost_examples=tuple(row[0] for row in lost_examples),
            duplicated_examples=tuple(f"{user}/{key}" for user, key in duplicate_examples),
        )


def reconcile(
    confirmations: Iterable[Confirmation],
    stored: Iterable[StoredRecord],
    confirmation_files: int = 0,
) -> IntegrityReport:
    """The report for records already in memory (tests, a few records)."""
    with Reconciler() as reconciler:
        reconciler.add_confirmations(confirmations)
        reconciler.add_stored(stored)
        return reconciler.report(confirmation_files)
