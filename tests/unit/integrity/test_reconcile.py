from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from peakday.integrity.io import STORES, check_run
from peakday.integrity.model import Confirmation, StoredRecord
from peakday.integrity.reconcile import reconcile
from peakday.scoring.integrity_slos import integrity_slos


def order(id_: str, key: str = "k", user: str = "u") -> StoredRecord:
    return StoredRecord(kind="order", id=id_, subject=user, key=key)


def told(id_: str, key: str = "k", user: str = "u", replayed: bool = False) -> Confirmation:
    return Confirmation(kind="order", id=id_, key=key, user=user, replayed=replayed)


def test_everything_confirmed_and_stored_once_is_clean() -> None:
    report = reconcile([told("o1", "k1"), told("o1", "k1", replayed=True)], [order("o1", "k1")])
    orders = report.kinds[0]
    assert (orders.confirmed, orders.stored, orders.replays) == (1, 1, 1)
    assert (report.lost, report.duplicated, report.unconfirmed_but_stored) == (0, 0, 0)


def test_a_confirmed_order_missing_from_the_store_is_lost() -> None:
    report = reconcile([told("o1", "k1"), told("o2", "k2")], [order("o1", "k1")])
    assert report.lost == 1
    assert report.kinds[0].lost_examples == ("o2",)


def test_an_order_stored_for_someone_else_is_lost() -> None:
    assert reconcile([told("o1", user="alice")], [order("o1", user="bob")]).lost == 1


def test_two_orders_for_one_key_are_a_duplicate() -> None:
    report = reconcile([told("o1", "k1"), told("o2", "k1")], [order("o1", "k1"), order("o2", "k1")])
    assert report.duplicated == 1
    assert report.kinds[0].duplicated_examples == ("u/k1",)


def test_stored_but_never_confirmed_is_counted_not_failed() -> None:
    report = reconcile([], [order("o1", "k1")])
    assert report.unconfirmed_but_stored == 1
    verdicts = {s.name: s.verdict for s in integrity_slos(report)}
    assert verdicts == {"integrity-lost": "pass", "integrity-duplicated": "pass"}


def test_integrity_slos_fail_on_loss_and_are_key() -> None:
    (lost, duplicated) = integrity_slos(reconcile([told("o9")], []))
    assert (lost.verdict, lost.value, lost.key, lost.kind) == ("fail", 1.0, True, "integrity")
    assert duplicated.verdict == "pass"


def reference(
    confirmations: list[Confirmation], stored: list[StoredRecord], kind: str
) -> tuple[object, ...]:
    """The rule as plain Python over lists (what reconcile did before it moved into SQLite)."""
    seen = [c for c in confirmations if c.kind == kind]
    records = [r for r in stored if r.kind == kind]
    by_id = {r.id: r for r in records}
    confirmed: dict[str, Confirmation] = {}
    for confirmation in seen:
        confirmed.setdefault(confirmation.id, confirmation)
    lost = sorted(
        cid
        for cid, c in confirmed.items()
        if cid not in by_id or (c.user and by_id[cid].subject != c.user)
    )
    ids_per_key: dict[tuple[str, str], set[str]] = {}
    for subject, key, id_ in [(r.subject, r.key, r.id) for r in records] + [
        (c.user, c.key, c.id) for c in seen
    ]:
        if key is not None:
            ids_per_key.setdefault((subject, key), set()).add(id_)
    duplicate_keys = sorted(k for k, ids in ids_per_key.items() if len(ids) > 1)
    return (
        len(confirmed),
        len(records),
        len(lost),
        sum(len(ids_per_key[k]) - 1 for k in duplicate_keys),
        sum(1 for rid in by_id if rid not in confirmed),
        sum(1 for c in seen if c.replayed),
        tuple(lost[:5]),
        tuple(f"{u}/{k}" for u, k in duplicate_keys[:5]),
    )


IDS = st.sampled_from(["o1", "o2", "o3", "o4", "l1", "l2", "é1"])
KEYS = st.none() | st.sampled_from(["k1", "k2", "k3", "K1"])
USERS = st.sampled_from(["", "alice", "bob", "Bob"])
KIND = st.sampled_from(["order", "label"])
CONFIRMATIONS = st.lists(
    st.builds(Confirmation, kind=KIND, id=IDS, key=KEYS, user=USERS, replayed=st.booleans()),
    max_size=12,
)
STORED = st.lists(st.builds(StoredRecord, kind=KIND, id=IDS, subject=USERS, key=KEYS), max_size=12)


@given(CONFIRMATIONS, STORED)
def test_sqlite_reconciliation_answers_as_the_plain_rule_does(
    confirmations: list[Confirmation], stored: list[StoredRecord]
) -> None:
    report = reconcile(confirmations, stored, 2)
    assert report.confirmation_files == 2
    for kind in report.kinds:
        got = (
            kind.confirmed,
            kind.stored,
            kind.lost,
            kind.duplicated,
            kind.unconfirmed_but_stored,
            kind.replays,
            kind.lost_examples,
            kind.duplicated_examples,
        )
        assert got == reference(confirmations, stored, kind.kind)


def test_a_run_is_checked_from_its_files_a_line_at_a_time(tmp_path: Path) -> None:
    folder = tmp_path / "confirmations"
    folder.mkdir()
    lines = [told(f"o{i}", f"k{i}").model_dump_json() for i in range(3)]
    (folder / "1.jsonl").write_text("\n".join(lines) + '\n{"kind": "ord')  # a torn last line
    data = tmp_path / "data"
    for service, filename, table in STORES.values():
        (data / service).mkdir(parents=True)
        with closing(sqlite3.connect(data / service / filename)) as conn:
            conn.execute(f"CREATE TABLE {table} (record_id, subject, idempotency_key)")
            if table == "orders":
                conn.executemany(
                    "INSERT INTO orders VALUES (?, 'u', ?)", [("o0", "k0"), ("o1", "k1")]
                )
            conn.commit()
    dirs = {service: str(data / service) for service, _, _ in STORES.values()}
    report = check_run(folder, dirs)
    orders = report.kinds[0]
    assert report.checked and report.confirmation_files == 1
    assert (orders.confirmed, orders.stored, orders.lost, orders.lost_examples) == (
        3,
        2,
        1,
        ("o2",),
    )
    missing = check_run(folder, {"checkout": str(data / "checkout")})
    assert not missing.checked and "labels" in missing.detail
