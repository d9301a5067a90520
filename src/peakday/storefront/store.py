"""SQLite adapter shared by the services: one WAL-mode connection guarded by a lock, and the
idempotent record table that checkout (orders) and labels (labels) both use.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from peakday.errors import ServiceStartError

_BUSY_TIMEOUT_MS = 5_000


class Database:
    """One connection per service process, shared by uvicorn's event loop and its threadpool.

    A single lock serialises every use: each statement is tens of microseconds, so the lock is
    cheaper than a connection per thread and makes multi-statement steps atomic for free.
    With `--workers N` several processes open the same file; an flock on PATH.lock then
    serialises their writes (reads need none in WAL mode: `reading`). SQLite's own busy
    handler would also keep writers correct, but it waits by sleeping 1, 2, 5 ... 100 ms, which
    put 100 ms into the p95 of a 2-worker checkout; a blocked flock wakes as soon as the holder
    lets go.
    """

    def __init__(self, path: Path, schema: Sequence[str]) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._process_lock = -1
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._process_lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            self._conn = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000
            )
            # WAL lets readers go on while a write commits; synchronous=NORMAL skips the fsync on
            # every commit (a power cut may lose the last orders, which a mock can afford).
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            for statement in schema:
                self._conn.execute(statement)
        except (sqlite3.Error, OSError) as exc:
            if self._process_lock >= 0:
                os.close(self._process_lock)
            raise ServiceStartError(
                f"Could not open the SQLite database {str(path)!r}: {exc}. "
                "Hint: check that --data-dir exists, is writable and is not on a read-only mount."
            ) from exc

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._lock:
            fcntl.flock(self._process_lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._process_lock, fcntl.LOCK_UN)

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """The connection, held exclusively; statements run in autocommit mode."""
        with self._exclusive():
            yield self._conn

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads only: held against this process's other threads, but not
        across processes. In WAL mode a reader never waits for a writer or another reader, so
        the flock would only make workers queue behind each other: auth's token check (every
        checkout's hot path) is a read, and a worker descheduled while holding the flock on a
        busy machine stalled every other worker's event loop."""
        with self._lock:
            yield self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)."""
        with self._exclusive():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            os.close(self._process_lock)


@dataclass(frozen=True)
class NewRecord:
    record_id: str
    subject: str
    idempotency_key: str | None
    fingerprint: str
    body: bytes  # the JSON response, stored verbatim so a replay is byte-for-byte the same
    created_at: float


@dataclass(frozen=True)
class StoredRecord:
    record_id: str
    subject: str
    fingerprint: str
    body: bytes


def record_table_schema(table: str) -> tuple[str, ...]:
    _check_table_name(table)
    return (
        f"""CREATE TABLE IF NOT EXISTS {table} (
            record_id TEXT PRIMARY KEY,
            subject TEXT NOT NULL,
            idempotency_key TEXT,
            fingerprint TEXT NOT NULL,
            body BLOB NOT NULL,
            created_at REAL NOT NULL,
            UNIQUE (subject, idempotency_key)
        )""",
    )


class RecordStore:
    """Records owned by a subject, created at most once per (subject, idempotency key).

    The UNIQUE constraint is what guarantees one row per key, even across processes sharing
    the file; records without a key (NULL) never collide.
    """

    def __init__(self, database: Database, table: str) -> None:
        _check_table_name(table)
        self._db = database
        self._table = table

    def insert_or_get(self, record: NewRecord) -> StoredRecord | None:
        """Insert `record`; return None if it was inserted, else the record already stored
        under the same subject and idempotency key.
        """
        with self._db.connection() as conn:
            cursor = conn.execute(
                f"INSERT INTO {self._table} "
                "(record_id, subject, idempotency_key, fingerprint, body, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (subject, idempotency_key) DO NOTHING",
                (
                    record.record_id,
                    record.subject,
                    record.idempotency_key,
                    record.fingerprint,
                    record.body,
                    record.created_at,
                ),
            )
            if cursor.rowcount == 1:
                return None
            row = conn.execute(
                f"SELECT record_id, subject, fingerprint, body FROM {self._table} "
                "WHERE subject = ? AND idempotency_key = ?",
                (record.subject, record.idempotency_key),
            ).fetchone()
        if row is None:  # only if the row vanished between the two statements, which we never do
            raise RuntimeError(f"Record under key {record.idempotency_key!r} disappeared.")
        return StoredRecord(row[0], row[1], row[2], bytes(row[3]))

    def get(self, record_id: str) -> StoredRecord | None:
        with self._db.reading() as conn:
            row = conn.execute(
                f"SELECT record_id, subject, fingerprint, body FROM {self._table} "
                "WHERE record_id = ?",
                (record_id,),
            ).fetchone()
        return None if row is None else StoredRecord(row[0], row[1], row[2], bytes(row[3]))

    def count(self) -> int:
        with self._db.reading() as conn:
            (count,) = conn.execute(f"SELECT COUNT(*) FROM {self._table}").fetchone()
        return int(count)


def _check_table_name(table: str) -> None:
    # Table names are interpolated into SQL, so only plain identifiers from our own code pass.
    if not table.isidentifier() or not table.isascii():
        raise ValueError(f"Not a plain SQL table name: {table!r}.")
