"""API tokens in SQLite: the hash is the key, the secret is never stored."""

from __future__ import annotations

import sqlite3

from jobglass.model import ConfigError
from jobglass.model.access import ApiToken, Scope

TOUCH_EVERY = 60.0  # seconds between `last_used_at` writes of one token


def _token(row: sqlite3.Row) -> ApiToken:
    return ApiToken(id=row["id"], name=row["name"], scope=Scope(row["scope"]),
                    created_at=row["created_at"], last_used_at=row["last_used_at"],
                    revoked_at=row["revoked_at"])


def create(db: sqlite3.Connection, name: str, scope: Scope, token_hash: str, now: float
           ) -> ApiToken:
    try:
        row = db.execute(
            "INSERT INTO jobglass_tokens (name, scope, token_hash, created_at)"
            " VALUES (?, ?, ?, ?) RETURNING *", (name, scope.value, token_hash, now)).fetchone()
    except sqlite3.IntegrityError:
        raise ConfigError(f"a token named {name!r} already exists; revoke it first") from None
    return _token(row)


def list_all(db: sqlite3.Connection) -> list[ApiToken]:
    return [_token(r) for r in db.execute("SELECT * FROM jobglass_tokens ORDER BY id")]


def revoke(db: sqlite3.Connection, name: str, now: float) -> bool:
    changed = db.execute("UPDATE jobglass_tokens SET revoked_at = ?"
                         " WHERE name = ? AND revoked_at IS NULL", (now, name)).rowcount
    return changed > 0


def by_hash(db: sqlite3.Connection, token_hash: str) -> ApiToken | None:
    row = db.execute("SELECT * FROM jobglass_tokens WHERE token_hash = ? AND revoked_at IS NULL",
                     (token_hash,)).fetchone()
    return None if row is None else _token(row)


def needs_touch(token: ApiToken, now: float) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY


def touch(db: sqlite3.Connection, token_id: int, now: float) -> None:
    db.execute("UPDATE jobglass_tokens SET last_used_at = ? WHERE id = ?", (now, token_id))


def any_active(db: sqlite3.Connection) -> bool:
    return db.execute(
        "SELECT 1 FROM jobglass_tokens WHERE revoked_at IS NULL LIMIT 1").fetchone() is not None
