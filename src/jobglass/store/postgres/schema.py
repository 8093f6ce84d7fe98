"""Create or upgrade the PostgreSQL schema, one migrator at a time.

The whole upgrade is one transaction (PostgreSQL DDL is transactional) behind a
transaction-level advisory lock, so two processes starting together do not both
create the tables: the second waits, then finds nothing left to do.
"""

from __future__ import annotations

import time
from typing import Any

from psycopg import AsyncConnection

from jobglass.store.migrations import latest_version, load_migrations, load_schema
from jobglass.store.postgres.config import PgConfig

PACKAGE = "jobglass.store.postgres"


async def current_version(conn: AsyncConnection[Any], schema: str) -> int:
    cur = await conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.jobglass_schema",))
    row = await cur.fetchone()
    if row is None or not row[0]:
        return 0
    cur = await conn.execute(f"SELECT MAX(version) FROM {schema}.jobglass_schema")
    row = await cur.fetchone()
    return int(row[0] or 0) if row else 0


async def apply_schema(conn: AsyncConnection[Any], config: PgConfig, *,
                       fresh_from_schema: bool = True) -> list[int]:
    """Bring the schema to the latest version; return the versions applied.

    An empty schema gets `schema.sql` whole (`fresh_from_schema`), or every
    migration in turn; a schema at version N gets the migrations after N.
    """
    schema = config.schema
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (config.lock_key("migrate"),))
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        # Migration files name tables unqualified; LOCAL ends with this transaction.
        await conn.execute(f"SET LOCAL search_path TO {schema}")
        await conn.execute("CREATE TABLE IF NOT EXISTS jobglass_schema ("
                           "version integer PRIMARY KEY, applied_at double precision NOT NULL)")
        version = await current_version(conn, schema)
        if version == 0 and fresh_from_schema:
            latest = latest_version(PACKAGE)
            await conn.execute(load_schema(PACKAGE).encode(), prepare=False)
            await _record(conn, latest)
            return [latest]
        applied = []
        for migration in load_migrations(PACKAGE):
            if migration.version > version:
                await conn.execute(migration.sql.encode(), prepare=False)
                await _record(conn, migration.version)
                applied.append(migration.version)
        return applied


async def _record(conn: AsyncConnection[Any], version: int) -> None:
    await conn.execute("INSERT INTO jobglass_schema VALUES (%s, %s)", (version, time.time()))
