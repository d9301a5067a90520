"""What reconciliation works on and what it reports (pure data)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RecordKind = Literal["order", "label"]
# How many example ids a report keeps per problem, so a bad run stays readable.
EXAMPLES_KEPT = 5


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Confirmation(_Model):
    """One 201 a client saw: the record it was told exists, and the key it sent."""

    kind: RecordKind
    id: str
    key: str | None = None
    user: str = ""
    step: str = ""
    replayed: bool = False
    wall: float = 0.0


class StoredRecord(_Model):
    kind: RecordKind
    id: str
    subject: str
    key: str | None = None


class KindIntegrity(_Model):
    """Counts for one kind of record (orders or labels)."""

    kind: RecordKind
    confirmed: int  # distinct ids clients were told about
    stored: int
    lost: int  # confirmed, but not in the store (or stored for someone else)
    duplicated: int  # extra records for one idempotency key
    unconfirmed_but_stored: int  # stored, but no client saw a 201 for it (e.g. timed out)
    replays: int = 0  # 201s that were replays of an earlier request under the same key
    lost_examples: tuple[str, ...] = ()
    duplicated_examples: tuple[str, ...] = ()


class IntegrityReport(_Model):
    """Result of reconciling one run; `checked` False (with `detail`) when it could not be done."""

    checked: bool
    kinds: tuple[KindIntegrity, ...] = ()
    detail: str = ""
    confirmation_files: int = Field(default=0, ge=0)

    @property
    def lost(self) -> int:
        return sum(k.lost for k in self.kinds)

    @property
    def duplicated(self) -> int:
        return sum(k.duplicated for k in self.kinds)

    @property
    def unconfirmed_but_stored(self) -> int:
        return sum(k.unconfirmed_but_stored for k in self.kinds)
