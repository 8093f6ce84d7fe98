"""The maintenance leader: a session advisory lock held on a dedicated connection.

The lock lives exactly as long as that session, so when the leading process or its
connection dies, PostgreSQL frees it and another store's next `try_lead` wins.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import psycopg
from psycopg import AsyncConnection

from jobglass.model import StoreUnavailable
from jobglass.store.postgres.pool import CONNECTION_ERRORS


def leader_name(holder: str) -> str:
    """The leading session's application_name (PostgreSQL keeps 63 bytes of it)."""
    return f"jobglass leader {holder}"[:63]


class Leadership:
    def __init__(self, conninfo: str, key: int) -> None:
        self._conninfo = conninfo
        self._key = key
        self._conn: AsyncConnection[Any] | None = None
        self.holder: str | None = None  # who leads through this store, if anyone
        self._lock = asyncio.Lock()

    async def try_lead(self, holder: str) -> bool:
        async with self._lock:  # one bid at a time on the one connection
            return await self._bid(holder)

    async def _bid(self, holder: str) -> bool:
        for attempt in range(2):
            try:
                return await self._try(holder)
            except CONNECTION_ERRORS as exc:
                # The session and its lock are gone; reconnect once and bid again.
                await self._reset()
                if attempt == 1:
                    raise StoreUnavailable(f"cannot reach PostgreSQL to lead: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _try(self, holder: str) -> bool:
        if self._conn is None or self._conn.closed:
            await self._reset()
            self._conn = await AsyncConnection.connect(self._conninfo, autocommit=True)
        if self.holder is not None:
            # The lock is ours while the session lives; a cheap query proves it does.
            await self._conn.execute("SELECT 1")
            return self.holder == holder
        # Won: the session is named after its holder, so `pg_stat_activity` (joined to
        # `pg_locks`) shows which worker leads.
        cur = await self._conn.execute(
            "SELECT CASE WHEN pg_try_advisory_lock(%s)"
            " THEN set_config('application_name', %s, false) END", (self._key, leader_name(holder)))
        row = await cur.fetchone()
        if row is not None and row[0] is not None:
            self.holder = holder
            return True
        return False

    async def _reset(self) -> None:
        conn, self._conn, self.holder = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await conn.close()

    async def close(self) -> None:
        """Hand leadership over now: unlock first, since a closed session's backend
        may linger a moment before PostgreSQL frees its locks."""
        async with self._lock:
            if self._conn is not None and self.holder is not None:
                with contextlib.suppress(psycopg.Error):
                    await self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
            await self._reset()
