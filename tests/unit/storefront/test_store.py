from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from peakday.errors import ServiceStartError
from peakday.storefront.store import (
    Database,
    NewRecord,
    RecordStore,
    StoredRecord,
    record_table_schema,
)


def make_store(path: Path) -> RecordStore:
    return RecordStore(Database(path / "orders.sqlite3", record_table_schema("orders")), "orders")


def record(
    record_id: str, key: str | None, fingerprint: str = "fp", subject: str = "s"
) -> NewRecord:
    return NewRecord(record_id, subject, key, fingerprint, f'{{"id":"{record_id}"}}'.encode(), 1.0)


def test_insert_then_get(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    assert store.insert_or_get(record("r1", "k1")) is None
    assert store.get("r1") == StoredRecord("r1", "s", "fp", b'{"id":"r1"}')
    assert store.get("missing") is None


def test_same_key_returns_the_first_record_and_adds_no_row(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.insert_or_get(record("r1", "k1"))
    existing = store.insert_or_get(record("r2", "k1", fingerprint="other"))
    assert existing is not None and existing.record_id == "r1" and existing.fingerprint == "fp"
    assert store.count() == 1


def test_keys_are_scoped_to_the_subject(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    assert store.insert_or_get(record("r1", "k1", subject="alice")) is None
    assert store.insert_or_get(record("r2", "k1", subject="bob")) is None
    assert store.count() == 2


def test_records_without_a_key_never_collide(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    assert store.insert_or_get(record("r1", None)) is None
    assert store.insert_or_get(record("r2", None)) is None
    assert store.count() == 2


def test_concurrent_duplicates_make_one_row(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    barrier = threading.Barrier(16)
    results: list[StoredRecord | None] = []

    def insert(index: int) -> None:
        barrier.wait()
        results.append(store.insert_or_get(record(f"r{index}", "same-key")))

    threads = [threading.Thread(target=insert, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == 1
    assert results.count(None) == 1
    assert len({r.record_id for r in results if r is not None}) == 1


def test_records_survive_reopening(tmp_path: Path) -> None:
    make_store(tmp_path).insert_or_get(record("r1", "k1"))
    assert make_store(tmp_path).get("r1") is not None


def test_database_uses_wal(tmp_path: Path) -> None:
    database = Database(tmp_path / "x.sqlite3", ())
    with database.connection() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_commits_skip_the_fsync_but_keep_wal(tmp_path: Path) -> None:
    """WAL + synchronous=NORMAL: no fsync per commit (docs/storefront.md, Durability)."""
    store = make_store(tmp_path)
    with store._db.connection() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL (FULL is 2)


_INSERT_THEN_DIE = """
import os, signal, sys
from pathlib import Path
from peakday.storefront.store import Database, NewRecord, RecordStore, record_table_schema
store = RecordStore(
    Database(Path(sys.argv[1]) / "orders.sqlite3", record_table_schema("orders")), "orders"
)
assert store.insert_or_get(NewRecord("r1", "s", "k1", "fp", b"{}", 1.0)) is None
os.kill(os.getpid(), signal.SIGKILL)  # the moment a 201 would have left: no close, no checkpoint
"""


def test_a_committed_record_survives_the_process_being_killed(tmp_path: Path) -> None:
    """What the integrity check relies on: an order confirmed to a client is still there after
    its process dies (kill and restart faults). synchronous=NORMAL keeps this (the WAL is in the
    OS's page cache); only a power cut or kernel crash may lose the last commits."""
    import signal
    import subprocess
    import sys

    child = subprocess.run(
        [sys.executable, "-c", _INSERT_THEN_DIE, str(tmp_path)], check=False, timeout=60
    )
    assert child.returncode == -signal.SIGKILL
    stored = make_store(tmp_path).get("r1")
    assert stored is not None and stored.body == b"{}"


def _with_the_file_locked_by_another_process(path: Path, call: Callable[[], object]) -> bool:
    """Whether `call` finishes within 0.5 s while another open file (as another worker process
    would have) holds the flock on PATH.lock."""
    import fcntl
    import os

    holder = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (call(), done.set()), daemon=True)
    try:
        worker.start()
        return done.wait(0.5)
    finally:
        fcntl.flock(holder, fcntl.LOCK_UN)
        os.close(holder)
        worker.join(5)


def test_reads_do_not_wait_for_another_process_s_write_lock(tmp_path: Path) -> None:
    """WAL readers need no cross-process lock: auth's token check must not queue behind
    another worker (nor a worker descheduled while it holds the lock)."""
    store = make_store(tmp_path)
    store.insert_or_get(record("r1", "k1"))
    path = tmp_path / "orders.sqlite3"
    assert _with_the_file_locked_by_another_process(path, lambda: store.get("r1"))
    assert _with_the_file_locked_by_another_process(path, store.count)
    # the control: a write does wait for the lock
    assert not _with_the_file_locked_by_another_process(
        path, lambda: store.insert_or_get(record("r2", "k2"))
    )


def test_token_checks_do_not_wait_for_another_process_s_write_lock(tmp_path: Path) -> None:
    from peakday.storefront.accounts import AccountStore
    from peakday.storefront.identity import Identity, Role

    accounts = AccountStore(tmp_path / "auth.sqlite3")
    accounts.save_token("t" * 43, Identity("shopper-001", Role.SHOPPER, 10**10), 0)
    found: list[object] = []
    assert _with_the_file_locked_by_another_process(
        tmp_path / "auth.sqlite3", lambda: found.append(accounts.find_token("t" * 43))
    )
    assert found == [Identity("shopper-001", Role.SHOPPER, 10**10)]


def test_unopenable_database_is_a_service_start_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    with pytest.raises(ServiceStartError, match="Hint: check that --data-dir"):
        Database(blocker / "auth.sqlite3", ())


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    database = Database(tmp_path / "x.sqlite3", ("CREATE TABLE t (v INTEGER)",))
    with pytest.raises(RuntimeError), database.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("boom")
    with database.connection() as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0


@pytest.mark.parametrize("name", ["orders; DROP TABLE x", "1abc", "naïve"], ids=str)
def test_table_names_must_be_plain_identifiers(name: str) -> None:
    with pytest.raises(ValueError, match="table name"):
        record_table_schema(name)
