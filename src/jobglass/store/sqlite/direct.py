"""Enqueue on SQLite from the caller's own thread: the sync API's fast path.

`App.enqueue` called from a web handler would otherwise hop to the portal loop,
on to the store's thread and back twice: most of an enqueue's time when SQLite
itself needs ~70 µs (synchronous=NORMAL). Each calling thread gets a connection
of its own; WAL lets them write beside the store's connection, BEGIN IMMEDIATE
and the busy timeout put the writers in line.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence

from jobglass.model import Job, JobSpec, JobState
from jobglass.store import wakeups
from jobglass.store.sqlite.connection import open_connection, transaction
from jobglass.store.sqlite.enqueue import enqueue
from jobglass.store.sqlite.url import parse_sqlite_url


class SQLiteDirectEnqueue:
    def __init__(self, url: str) -> None:
        settings = parse_sqlite_url(url)
        self.path = settings.path
        self._synchronous = settings.synchronous
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = open_connection(self.path, self._synchronous)
            with self._lock:
                if self._closed:
                    db.close()
                    raise RuntimeError("this app was closed")
                self._opened.append(db)
            self._local.db = db
        return db

    def enqueue_many(self, specs: Sequence[JobSpec], *, now: float | None = None) -> list[Job]:
        when = time.time() if now is None else now
        with transaction(self._connection()) as db:
            jobs = enqueue(db, specs, when)
        if any(job.state is JobState.QUEUED for job in jobs):
            wakeups.wake(self.path)  # workers of this process; others see data_version move
        return jobs

    def close(self) -> None:
        with self._lock:
            self._closed = True
            opened, self._opened = self._opened, []
        for db in opened:
            db.close()
