"""Enqueue on SQLite from the caller's own thread: the sync API's fast path.

`App.enqueue` called from a web handler would otherwise hop to the portal loop,
on to the store's thread and back twice: most of an enqueue's time when SQLite
itself needs ~70 µs (synchronous=NORMAL). Each calling thread gets a connection
of its own; WAL lets them write beside the store's connection, BEGIN IMMEDIATE
and the busy timeout put the writers in line.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from jobglass.model import Job, JobSpec, JobState
from jobglass.store import wakeups
from jobglass.store.sqlite.connection import open_connection
from jobglass.store.sqlite.enqueue import store_jobs
from jobglass.store.sqlite.url import parse_sqlite_url
from jobglass.store.threadconn import ThreadConnections

# Threads that may hold a connection of their own at once (each is three open files).
THREAD_LIMIT = 32


class SQLiteDirectEnqueue:
    def __init__(self, url: str) -> None:
        settings = parse_sqlite_url(url)
        self.path = settings.path
        self.connections: ThreadConnections[sqlite3.Connection] = ThreadConnections(
            lambda: open_connection(self.path, settings.synchronous), THREAD_LIMIT)

    def takes(self, specs: Sequence[JobSpec]) -> bool:
        return self.connections.reserve()

    def enqueue_many(self, specs: Sequence[JobSpec], *, now: float | None = None) -> list[Job]:
        when = time.time() if now is None else now
        jobs = store_jobs(self.connections.get(), specs, when)
        if any(job.state is JobState.QUEUED for job in jobs):
            wakeups.wake(self.path)  # workers of this process; others see the WAL file move
        return jobs

    def close(self) -> None:
        self.connections.close_all()
