"""Auth's SQLite adapter: user accounts with scrypt hashes, and issued tokens kept only as
SHA-256 digests (with subject, role and expiry) so they survive a restart of auth.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from peakday.storefront.identity import Identity, Role
from peakday.storefront.passwords import ScryptParams, hash_password
from peakday.storefront.rules import SeedUser
from peakday.storefront.store import Database

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS users (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS tokens (
        token_sha256 BLOB PRIMARY KEY,
        subject TEXT NOT NULL,
        role TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS tokens_by_expiry ON tokens (expires_at)",
)


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    password_hash: str


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class AccountStore:
    def __init__(self, path: Path) -> None:
        self._db = Database(path, _SCHEMA)

    def close(self) -> None:
        self._db.close()

    def user_count(self) -> int:
        with self._db.reading() as conn:
            (count,) = conn.execute("SELECT COUNT(*) FROM users").fetchone()
        return int(count)

    def seed(self, users: Sequence[SeedUser], params: ScryptParams, workers: int = 2) -> int:
        """Create `users` unless the database already has accounts; return how many were added.

        Hashing is the slow part (one KDF per user), so it runs on a few threads: hashlib.scrypt
        releases the GIL. A data dir that was seeded before skips all of it.
        """
        if self.user_count() > 0:
            return 0
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            hashes = list(pool.map(lambda user: hash_password(user.password, params), users))
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO users (username, role, password_hash) VALUES (?, ?, ?)",
                [(u.username, u.role.value, h) for u, h in zip(users, hashes, strict=True)],
            )
        return len(users)

    def find_account(self, username: str) -> Account | None:
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT username, role, password_hash FROM users WHERE username = ?", (username,)
            ).fetchone()
        return None if row is None else Account(row[0], Role(row[1]), row[2])

    def save_token(self, token: str, identity: Identity, now: int) -> None:
        with self._db.transaction() as conn:
            # Dropping expired tokens here keeps the table bounded under sustained logins; the
            # index makes it a short range scan that usually deletes nothing.
            conn.execute("DELETE FROM tokens WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT INTO tokens (token_sha256, subject, role, expires_at) VALUES (?, ?, ?, ?)",
                (token_digest(token), identity.subject, identity.role.value, identity.expires_at),
            )

    def find_token(self, token: str) -> Identity | None:
        """The identity behind `token`, whether or not it has expired (the caller decides)."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT subject, role, expires_at FROM tokens WHERE token_sha256 = ?",
                (token_digest(token),),
            ).fetchone()
        return None if row is None else Identity(row[0], Role(row[1]), int(row[2]))
