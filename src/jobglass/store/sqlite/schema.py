"""Create or upgrade the SQLite schema."""

from __future__ import annotations

import sqlite3
import time

from jobglass.store.migrations import latest_version, load_migrations, load_schema
from jobglass.store.sqlite.connection import SQLiteConnection

PACKAGE = "jobglass.store.sqlite"


def current_version(db: sqlite3.Connection) -> int:
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobglass_schema'").fetchone()
    if not exists:
        return 0
    row = db.execute("SELECT MAX(version) FROM jobglass_schema").fetchone()
    return int(row[0] or 0)


def apply_schema(conn: SQLiteConnection, *, fresh_from_schema: bool = True) -> list[int]:
    """Bring the database to the latest version; return the versions applied.

    An empty database gets `schema.sql` whole (`fresh_from_schema`), or every
    migration in turn; a database at version N gets the migrations after N.
    """
    with conn.write() as db:
        db.execute("CREATE TABLE IF NOT EXISTS jobglass_schema ("
                   "version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
        version = current_version(db)
        if version == 0 and fresh_from_schema:
            _run_script(db, load_schema(PACKAGE))
            latest = latest_version(PACKAGE)
            db.execute("INSERT INTO jobglass_schema VALUES (?, ?)", (latest, time.time()))
            return [latest]
        applied = []
        for migration in load_migrations(PACKAGE):
            if migration.version > version:
                _run_script(db, migration.sql)
                db.execute("INSERT INTO jobglass_schema VALUES (?, ?)",
                           (migration.version, time.time()))
                applied.append(migration.version)
        return applied


def _run_script(db: sqlite3.Connection, sql: str) -> None:
    # executescript() would COMMIT our open transaction; run statement by statement.
    for statement in _statements(sql):
        db.execute(statement)


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
