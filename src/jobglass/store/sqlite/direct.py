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
import weakref
from collections.abc import Sequence

from jobglass.model import Job, JobSpec, JobState
from jobglass.store import wakeups
from jobglass.store.sqlite.connection import open_connection, transaction
from jobglass.store.sqlite.enqueue import enqueue
from jobglass.store.sqlite.url import parse_sqlite_url


class _Held:
    """A thread's connection, closed when the thread ends: the thread-local reference
    to this holder is the only one, so it goes at once (a connection itself sits in a
    reference cycle and would wait for the garbage collector). A server that starts a
    thread per request must not pile up open files."""

    __slots__ = ("__weakref__", "db")

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __del__(self) -> None:
        self.db.close()


class SQLiteDirectEnqueue:
    def __init__(self, url: str) -> None:
        settings = parse_sqlite_url(url)
        self.path = settings.path
        self._synchronous = settings.synchronous
        self._local = threading.local()
        self._held: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        held: _Held | None = getattr(self._local, "held", None)
        if held is None:
            held = _Held(open_connection(self.path, self._synchronous))
            with self._lock:
                if self._closed:
                    held.db.close()
                    raise RuntimeError("this app was closed")
                self._held.add(held)
            self._local.held = held
        return held.db

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
            held = list(self._held)
        for one in held:
            one.db.close()
