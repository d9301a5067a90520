from __future__ import annotations

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
