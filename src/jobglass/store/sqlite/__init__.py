"""The embedded SQLite store."""

from jobglass.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
