"""The connection pool, and the one place database errors become jobglass errors.

Every verb runs as `run(fn)`: one pooled connection, one transaction (or none for
a single self-contained statement). A lost connection raises `StoreUnavailable`
and the pool is checked so that the next call gets a live connection; a deadlock
or serialization failure rolled everything back, so the whole function is run
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.errors import TransactionRollback
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool

from jobglass.model import StoreUnavailable
from jobglass.store.postgres.config import PgConfig

T = TypeVar("T")
log = logging.getLogger("jobglass.store")
Conn = AsyncConnection[Any]
_RETRIES = 5

CONNECTION_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)
# psycopg_pool retries a lost connection with a backoff that doubles (1, 2, 4 ... s)
# for as long as this window: after a long outage a worker would sit idle for up to
# the last delay once the server is back, and a peer that reconnected sooner could
# judge it dead. A short window gives up early instead; the next call that waits for
# a connection grows the pool again, starting from a 1 s delay.
RECONNECT_WINDOW = 2.0
OUTAGE_WAIT = 1.0


class PgPool:
    def __init__(self, config: PgConfig) -> None:
        self._config = config
        self._pool: AsyncConnectionPool | None = None
        self.unreachable_since: float | None = None

    async def open(self) -> None:
        if self._pool is not None:
            return
        pool = AsyncConnectionPool(
            self._config.conninfo, min_size=self._config.pool_min,
            max_size=self._config.pool_max, timeout=self._config.pool_timeout,
            kwargs={"autocommit": True}, open=False, name=f"jobglass-{self._config.schema}",
            reconnect_timeout=RECONNECT_WINDOW)
        try:
            await pool.open(wait=self._config.pool_min > 0, timeout=self._config.pool_timeout)
        except CONNECTION_ERRORS as exc:
            await pool.close()
            self._mark_down()
            raise StoreUnavailable(f"cannot reach PostgreSQL: {exc}") from exc
        self._pool = pool
        self._mark_up()

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def run(self, fn: Callable[[Conn], Awaitable[T]], *, transaction: bool = True) -> T:
        """Run `fn` on a pooled connection, inside a transaction unless told not to."""
        if self._pool is None:
            raise StoreUnavailable("the PostgreSQL store is not open")
        # While the server is known to be down, a caller waits for a connection only
        # briefly: the pool grows (tries to connect) when a caller starts waiting, so
        # callers that come back often keep it trying once the server is back.
        wait = None if self.unreachable_since is None else OUTAGE_WAIT
        for attempt in range(_RETRIES):
            try:
                async with self._pool.connection(timeout=wait) as conn:
                    if not transaction:
                        result = await fn(conn)
                    else:
                        async with conn.transaction():
                            result = await fn(conn)
            except TransactionRollback:
                # Rolled back whole by the server (deadlock between batches):
                # nothing was applied, so running it again is safe.
                if attempt == _RETRIES - 1:
                    raise
                await asyncio.sleep(0.005 * (attempt + 1))
                continue
            except CONNECTION_ERRORS as exc:
                self._mark_down()
                await self._drop_broken()
                raise StoreUnavailable(f"PostgreSQL is unavailable: {exc}") from exc
            if self.unreachable_since is not None:
                self._mark_up()
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _mark_up(self) -> None:
        since, self.unreachable_since = self.unreachable_since, None
        if since is not None:
            # The other end of the outage's warnings: how long it lasted, at a glance.
            log.info("PostgreSQL is reachable again after %.1f s", time.time() - since)

    def _mark_down(self) -> None:
        if self.unreachable_since is None:
            self.unreachable_since = time.time()

    async def _drop_broken(self) -> None:
        """Test the idle connections now, so the next call does not meet a dead one."""
        if self._pool is None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._config.pool_timeout):
                await self._pool.check()


async def in_transaction(conn: Conn, fn: Callable[[Conn], Awaitable[T]]) -> T:
    """Run `fn` on a caller's connection, as a savepoint when a transaction is open,
    mapping lost connections the way `PgPool.run` does.

    A connection not in autocommit mode is always inside the caller's transaction,
    even before its first statement; psycopg's `transaction()` on such an idle
    connection would open and commit one of its own, so a later `rollback()` would
    not undo the jobs. A trivial statement first begins the caller's transaction.
    """
    try:
        if not conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE:
            await conn.execute("SELECT 1")
        async with conn.transaction():
            return await fn(conn)
    except CONNECTION_ERRORS as exc:
        if isinstance(exc, TransactionRollback):
            raise
        raise StoreUnavailable(f"PostgreSQL is unavailable: {exc}") from exc
