"""Pick a store from a database URL, the way SAQ's `from_url` does."""

from __future__ import annotations

import os

from jobglass.model import ConfigError
from jobglass.store.protocol import DirectEnqueue, Store

DEFAULT_URL = "sqlite:///jobglass.db"


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("JOBGLASS_DATABASE_URL") or DEFAULT_URL


def direct_enqueue_from_url(url: str) -> DirectEnqueue | None:
    """The store's thread-local enqueue path: SQLite (except in memory: another
    connection would open another database) and PostgreSQL (plain batches)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        from jobglass.store.sqlite.direct import SQLiteDirectEnqueue

        direct = SQLiteDirectEnqueue(url)
        return None if direct.path == ":memory:" else direct
    if scheme in ("postgresql", "postgres"):
        from jobglass.store.postgres.direct import PostgresDirectEnqueue

        return PostgresDirectEnqueue(url)
    return None


def store_from_url(url: str) -> Store:
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        from jobglass.store.sqlite import SQLiteStore

        return SQLiteStore(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from jobglass.store.postgres import PostgresStore
        except ImportError as exc:  # pragma: no cover - psycopg is a dependency
            raise ConfigError(f"PostgreSQL needs psycopg 3: {exc}") from exc
        return PostgresStore(url)
    raise ConfigError(
        f"unsupported database URL {url!r}: use sqlite:///path.db or postgresql://..."
    )
