"""Enqueue on PostgreSQL from the caller's own thread: the sync API's fast path for
plain batches (no unique keys, no parents), which are one autocommitted
insert-and-NOTIFY statement. Each calling thread keeps a sync psycopg connection;
everything else goes through the store on the App's loop."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import psycopg

from jobglass.model import Job, JobSpec, JobState, StoreUnavailable
from jobglass.store import wakeups
from jobglass.store.postgres.config import parse_url
from jobglass.store.postgres.enqueue import is_plain, plain_jobs, plain_statement
from jobglass.store.postgres.pool import CONNECTION_ERRORS
from jobglass.store.threadconn import ThreadConnections


class PostgresDirectEnqueue:
    def __init__(self, url: str) -> None:
        self.config = parse_url(url)
        conninfo = self.config.conninfo
        # As many thread connections as the pool may open: the server's connection
        # budget is what limits a deployment, and other threads use the pool.
        self.connections: ThreadConnections[psycopg.Connection[Any]] = ThreadConnections(
            lambda: psycopg.connect(conninfo, autocommit=True), self.config.pool_max)

    def takes(self, specs: Sequence[JobSpec]) -> bool:
        if not is_plain(specs):
            return False
        try:
            return self.connections.reserve()
        except CONNECTION_ERRORS as exc:
            raise StoreUnavailable(f"PostgreSQL is unavailable: {exc}") from exc

    def enqueue_many(self, specs: Sequence[JobSpec], *, now: float | None = None) -> list[Job]:
        if not specs:
            return []
        when = time.time() if now is None else now
        sql, params, rows = plain_statement(self.config.schema, self.config.channel, specs,
                                            when)
        try:
            ids = [int(r[0]) for r in self.connections.get().execute(sql, params).fetchall()]
        except CONNECTION_ERRORS as exc:
            self.connections.discard()  # the next call connects afresh
            raise StoreUnavailable(f"PostgreSQL is unavailable: {exc}") from exc
        jobs = plain_jobs(ids, rows, specs)
        if any(job.state is JobState.QUEUED for job in jobs):
            wakeups.wake(self.config.wake_key)
        return jobs

    def close(self) -> None:
        self.connections.close_all()
