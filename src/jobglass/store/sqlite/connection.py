"""One SQLite connection driven from one thread, awaited from any event loop.

sqlite3 blocks, and a busy database makes it wait up to `busy_timeout`; running
every call on a private thread keeps that wait off the event loop. Writes use
BEGIN IMMEDIATE so two processes never deadlock upgrading read locks.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from jobglass.model import StoreUnavailable

T = TypeVar("T")


class SQLiteConnection:
    def __init__(self, path: str, *, synchronous: str = "NORMAL", busy_ms: int = 30_000) -> None:
        self.path = path
        self._synchronous = synchronous
        self._busy_ms = busy_ms
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobglass-sqlite")
        self._db: sqlite3.Connection | None = None
        self._closed = False

    def _connect(self) -> None:
        self._db = open_connection(self.path, self._synchronous, self._busy_ms)

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreUnavailable("the SQLite store is not open")
        return self._db

    async def open(self) -> None:
        await self.run(self._connect)

    async def run(self, fn: Callable[[], T]) -> T:
        if self._closed:
            raise StoreUnavailable("the SQLite store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn)

    def run_blocking(self, fn: Callable[[], T]) -> T:
        """For callers without an event loop (tests, the CLI's sync paths)."""
        return self._pool.submit(fn).result()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; call only from inside `run`."""
        with transaction(self.db) as db:
            yield db

    async def close(self) -> None:
        """Close the connection and its thread; a second call does nothing."""
        if self._closed:
            return

        def _close() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await self.run(_close)
        self._closed = True
        self._pool.shutdown(wait=True)


def open_connection(path: str, synchronous: str, busy_ms: int = 30_000) -> sqlite3.Connection:
    """A connection set up as every jobglass connection is: WAL, busy timeout, rows by name."""
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot open SQLite database {path}: {exc}") from exc
    db.row_factory = sqlite3.Row
    db.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    db.execute("PRAGMA foreign_keys = OFF")
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE: take the write lock up front, so two processes never deadlock
    upgrading read locks."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
