"""Reconciliation (pure): every confirmed record must be stored exactly once.

lost                    a confirmed id that is not in the store, or is stored for another
                        subject than the user who was told about it
duplicated              for one (subject, idempotency key): every record beyond the first,
                        counting both stored ids and ids clients were confirmed with
unconfirmed_but_stored  stored, but never confirmed to a client (the client gave up while the
                        service committed); not an error, but the number a retrying client
                        with the same key should bring to zero
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from peakday.integrity.model import (
    EXAMPLES_KEPT,
    Confirmation,
    IntegrityReport,
    KindIntegrity,
    RecordKind,
    StoredRecord,
)

KINDS: tuple[RecordKind, ...] = ("order", "label")


def reconcile_kind(
    kind: RecordKind, confirmations: Iterable[Confirmation], stored: Iterable[StoredRecord]
) -> KindIntegrity:
    seen = [c for c in confirmations if c.kind == kind]
    records = [r for r in stored if r.kind == kind]
    by_id = {r.id: r for r in records}
    confirmed_ids: dict[str, Confirmation] = {}
    for confirmation in seen:
        confirmed_ids.setdefault(confirmation.id, confirmation)
    lost = sorted(
        cid
        for cid, c in confirmed_ids.items()
        if cid not in by_id or (c.user and by_id[cid].subject != c.user)
    )
    ids_per_key: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record in records:
        if record.key is not None:
            ids_per_key[(record.subject, record.key)].add(record.id)
    for confirmation in seen:
        if confirmation.key is not None:
            ids_per_key[(confirmation.user, confirmation.key)].add(confirmation.id)
    duplicate_keys = sorted(key for key, ids in ids_per_key.items() if len(ids) > 1)
    duplicated = sum(len(ids_per_key[key]) - 1 for key in duplicate_keys)
    unconfirmed = [rid for rid in by_id if rid not in confirmed_ids]
    return KindIntegrity(
        kind=kind,
        confirmed=len(confirmed_ids),
        stored=len(records),
        lost=len(lost),
        duplicated=duplicated,
        unconfirmed_but_stored=len(unconfirmed),
        replays=sum(1 for c in seen if c.replayed),
        lost_examples=tuple(lost[:EXAMPLES_KEPT]),
        duplicated_examples=tuple(f"{user}/{key}" for user, key in duplicate_keys[:EXAMPLES_KEPT]),
    )


def reconcile(
    confirmations: Sequence[Confirmation],
    stored: Sequence[StoredRecord],
    confirmation_files: int = 0,
) -> IntegrityReport:
    return IntegrityReport(
        checked=True,
        kinds=tuple(reconcile_kind(kind, confirmations, stored) for kind in KINDS),
        confirmation_files=confirmation_files,
    )
