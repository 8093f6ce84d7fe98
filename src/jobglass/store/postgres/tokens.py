"""API tokens in PostgreSQL: the hash is the key, the secret is never stored.

A lookup is one statement: the active token by hash, its `last_used_at` refreshed
in the same statement when the last write is at least `TOUCH_EVERY` old.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation

from jobglass.model import ConfigError
from jobglass.model.access import ApiToken, Scope
from jobglass.store.postgres.rows import Row, fetch

Conn = AsyncConnection[Any]
TOUCH_EVERY = 60.0  # seconds between `last_used_at` writes of one token (as on SQLite)


def _token(row: Row) -> ApiToken:
    return ApiToken(id=row["id"], name=row["name"], scope=Scope(row["scope"]),
                    created_at=row["created_at"], last_used_at=row["last_used_at"],
                    revoked_at=row["revoked_at"])


async def create(conn: Conn, s: str, name: str, scope: Scope, token_hash: str, now: float
                 ) -> ApiToken:
    try:
        rows = await fetch(
            conn, f"INSERT INTO {s}.jobglass_tokens (name, scope, token_hash, created_at)"
                  " VALUES (%s, %s, %s, %s) RETURNING *",
            (name, scope.value, token_hash, float(now)))
    except UniqueViolation:
        raise ConfigError(f"a token named {name!r} already exists; revoke it first") from None
    return _token(rows[0])


async def list_all(conn: Conn, s: str) -> list[ApiToken]:
    return [_token(r) for r in await fetch(conn, f"SELECT * FROM {s}.jobglass_tokens"
                                                 " ORDER BY id")]


async def revoke(conn: Conn, s: str, name: str, now: float) -> bool:
    rows = await fetch(conn, f"UPDATE {s}.jobglass_tokens SET revoked_at = %s"
                             " WHERE name = %s AND revoked_at IS NULL RETURNING id",
                       (float(now), name))
    return bool(rows)


async def by_hash(conn: Conn, s: str, token_hash: str, now: float) -> ApiToken | None:
    rows = await fetch(
        conn,
        f"WITH t AS (SELECT * FROM {s}.jobglass_tokens"
        "  WHERE token_hash = %(hash)s AND revoked_at IS NULL),"
        f" touched AS (UPDATE {s}.jobglass_tokens u SET last_used_at = %(now)s FROM t"
        "  WHERE u.id = t.id AND (t.last_used_at IS NULL"
        "   OR %(now)s - t.last_used_at >= %(every)s) RETURNING u.id, u.last_used_at)"
        " SELECT t.id, t.name, t.scope, t.created_at, t.revoked_at,"
        "  COALESCE(touched.last_used_at, t.last_used_at) AS last_used_at"
        " FROM t LEFT JOIN touched ON touched.id = t.id",
        {"hash": token_hash, "now": float(now), "every": TOUCH_EVERY})
    return _token(rows[0]) if rows else None


async def any_active(conn: Conn, s: str) -> bool:
    rows = await fetch(conn, f"SELECT EXISTS (SELECT 1 FROM {s}.jobglass_tokens"
                             " WHERE revoked_at IS NULL) AS found")
    return bool(rows[0]["found"])
