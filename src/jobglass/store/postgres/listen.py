"""LISTEN on a dedicated connection: a NOTIFY from any process sets an event.

The connection is opened with the store and read by a background task. When it
dies (server restart, terminated backend) the next `wait` reconnects and wakes
its caller once, since notifications sent meanwhile were missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql

from jobglass.store.postgres.pool import CONNECTION_ERRORS


class Listener:
    def __init__(self, conninfo: str, channel: str, event: asyncio.Event) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self.event = event
        self._conn: AsyncConnection[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> bool:
        """Connect and LISTEN; False when the database cannot be reached."""
        async with self._lock:  # two waiters must not both open a connection
            if self.alive:
                return True
            await self.stop()
            try:
                conn = await AsyncConnection.connect(self._conninfo, autocommit=True)
            except CONNECTION_ERRORS:
                return False
            try:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            except BaseException as exc:  # cancelled too: never leave the connection open
                await asyncio.shield(conn.close())
                if isinstance(exc, CONNECTION_ERRORS):
                    return False
                raise
            self._conn = conn
            self._task = asyncio.create_task(self._read(conn), name=f"jobglass-{self._channel}")
            return True

    async def _read(self, conn: AsyncConnection[Any]) -> None:
        with contextlib.suppress(psycopg.Error):
            async for _ in conn.notifies():
                self.event.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        conn, self._conn = self._conn, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, psycopg.Error):
                await task
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await conn.close()
