"""The SQLite store: every verb of `Store` as one short transaction.

Safe with several processes on one file: WAL, a busy timeout, BEGIN IMMEDIATE
for every write, and compare-and-set on (id, state, lease) for every transition.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from jobglass.model import (
    IllegalTransition,
    Job,
    JobSpec,
    JobState,
    LogLine,
    QueueStats,
    StoreUnavailable,
    UniqueKeyConflict,
    WorkerInfo,
    is_legal,
    sources_of,
)
from jobglass.model.access import ApiToken, Scope
from jobglass.model.health import HealthSample, Suspect, Throughput
from jobglass.model.job import Attempt
from jobglass.model.stats import MinuteStats
from jobglass.store import wakeups
from jobglass.store.codec import dumps
from jobglass.store.protocol import (
    HeartbeatReply,
    JobFilter,
    Page,
    Progress,
    Reaped,
    Report,
)
from jobglass.store.sqlite import health as health_sql
from jobglass.store.sqlite import joblogs, reads
from jobglass.store.sqlite import stats as stats_sql
from jobglass.store.sqlite import tokens as tokens_sql
from jobglass.store.sqlite.claims import claim, finish, heartbeat
from jobglass.store.sqlite.connection import SQLiteConnection
from jobglass.store.sqlite.enqueue import store_jobs
from jobglass.store.sqlite.graph import cancel_dependents
from jobglass.store.sqlite.maintenance import prune, reap
from jobglass.store.sqlite.schema import apply_schema, current_version
from jobglass.store.sqlite.url import parse_sqlite_url
from jobglass.store.sqlite.wal_watch import WalWatch

_ACTIVE_SQL = "('blocked', 'queued', 'running')"
T = TypeVar("T")


def _in(states: Sequence[JobState]) -> str:
    return "(" + ", ".join(f"'{s.value}'" for s in states) + ")"


class SQLiteStore:
    def __init__(self, url: str) -> None:
        self.url = url
        settings = parse_sqlite_url(url)
        self.path = settings.path
        self.poll_interval = settings.poll
        self._conn = SQLiteConnection(self.path, synchronous=settings.synchronous)
        self._auto_migrate = settings.migrate
        self._wakeup = asyncio.Event()
        self._wakeup_loop: asyncio.AbstractEventLoop | None = None
        self._data_version: int | None = None
        self._wal = WalWatch(self.path)  # another process's commits, at once

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one write transaction (on the store's thread)."""
        with self._conn.write() as db:
            return work(db)

    # -- lifecycle -------------------------------------------------------------
    async def open(self) -> None:
        await self._conn.open()
        if self._auto_migrate:
            await self.migrate()

    async def close(self) -> None:
        if self._wakeup_loop is not None:
            wakeups.unsubscribe(self.path, self._wakeup_loop, self._wakeup)
        self._wal.close()
        await self._conn.close()

    async def migrate(self) -> list[int]:
        return await self._conn.run(lambda: apply_schema(self._conn))

    async def schema_version(self) -> int:
        return await self._conn.run(lambda: current_version(self._conn.db))

    async def ping(self) -> None:
        def _ping() -> None:
            try:
                self._conn.db.execute("SELECT 1").fetchone()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"SQLite database {self.path}: {exc}") from exc

        await self._conn.run(_ping)

    # -- producers -------------------------------------------------------------
    async def enqueue_many(self, specs: Sequence[JobSpec], *, now: float | None = None
                           ) -> list[Job]:
        when = time.time() if now is None else now
        jobs = await self._conn.run(lambda: store_jobs(self._conn.db, specs, when))
        if any(job.state is JobState.QUEUED for job in jobs):
            wakeups.wake(self.path)
        return jobs

    # -- workers ---------------------------------------------------------------
    async def register_worker(self, worker: WorkerInfo) -> None:
        def _register() -> None:
            with self._conn.write() as db:
                db.execute(
                    "INSERT OR REPLACE INTO jobglass_workers (id, host, pid, queues, started_at,"
                    " last_heartbeat, state, current_jobs, jobs_done, lease_s)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (worker.id, worker.host, worker.pid, dumps(worker.queues), worker.started_at,
                     worker.last_heartbeat, "running", dumps(worker.current_jobs), 0,
                     worker.lease),
                )

        await self._conn.run(_register)

    async def claim(self, worker_id: str, queues: Sequence[str], limit: int, *,
                    allow_shell: bool = False, now: float | None = None) -> list[Job]:
        if limit <= 0:
            return []
        when = time.time() if now is None else now
        return await self._conn.run(
            lambda: self._write(lambda db: claim(db, worker_id, list(queues), limit,
                                                 allow_shell, when)))

    async def heartbeat(self, worker_id: str, running: Sequence[Progress], *,
                        now: float | None = None) -> HeartbeatReply:
        when = time.time() if now is None else now
        return await self._conn.run(
            lambda: self._write(lambda db: heartbeat(db, worker_id, running, when)))

    async def finish_many(self, reports: Sequence[Report], *, now: float | None = None
                          ) -> list[bool]:
        if not reports:
            return []
        when = time.time() if now is None else now
        applied, requeued = await self._conn.run(
            lambda: self._write(lambda db: finish(db, reports, when)))
        if requeued:
            wakeups.wake(self.path)
        return applied

    async def stop_worker(self, worker_id: str, *, now: float | None = None) -> None:
        when = time.time() if now is None else now

        def _stop() -> None:
            with self._conn.write() as db:
                db.execute("UPDATE jobglass_workers SET state = 'stopped', last_heartbeat = ?,"
                           " current_jobs = '[]' WHERE id = ?", (when, worker_id))

        await self._conn.run(_stop)

    # -- maintenance -----------------------------------------------------------
    async def reap(self, lease_seconds: float, *, now: float | None = None) -> list[Reaped]:
        when = time.time() if now is None else now
        reaped = await self._conn.run(
            lambda: self._write(lambda db: reap(db, lease_seconds, when)))
        if any(r.requeued for r in reaped):
            wakeups.wake(self.path)
        return reaped

    async def try_lead(self, holder: str) -> bool:
        return True

    async def prune(self, older_than: float) -> int:
        return await self._conn.run(lambda: self._write(lambda db: prune(db, older_than)))

    # -- people ----------------------------------------------------------------
    async def cancel(self, job_id: int, reason: str = "cancelled by request", *,
                     now: float | None = None) -> Job:
        when = time.time() if now is None else now
        return await self._conn.run(lambda: self._cancel(job_id, reason, when))

    def _cancel(self, job_id: int, reason: str, now: float) -> Job:
        with self._conn.write() as db:
            job = reads.get_job(db, job_id)
            if job.state is JobState.RUNNING:
                db.execute("UPDATE jobglass_jobs SET cancel_requested = 1, reason = ?"
                           " WHERE id = ? AND state = 'running'", (reason, job_id))
            else:
                if not is_legal(job.state, JobState.CANCELLED):
                    raise IllegalTransition(job.state.value, JobState.CANCELLED.value, job_id)
                changed = db.execute(
                    "UPDATE jobglass_jobs SET state = 'cancelled', reason = ?, finished_at = ?"
                    f" WHERE id = ? AND state IN {_in(sources_of(JobState.CANCELLED))}",
                    (reason, now, job_id)).rowcount
                if changed == 1:
                    cancel_dependents(db, job_id, f"parent job {job_id} cancelled", now)
            return reads.get_job(db, job_id)

    async def retry(self, job_id: int, *, now: float | None = None) -> Job:
        when = time.time() if now is None else now
        job = await self._conn.run(lambda: self._retry(job_id, when))
        wakeups.wake(self.path)
        return job

    def _retry(self, job_id: int, now: float) -> Job:
        with self._conn.write() as db:
            job = reads.get_job(db, job_id)
            if job.state not in (JobState.FAILED, JobState.CANCELLED):
                # blocked/running -> queued are legal moves, but not a person's retry.
                raise IllegalTransition(job.state.value, JobState.QUEUED.value, job_id)
            # A child retried before its parents succeeded waits for them again.
            pending = db.execute(
                "SELECT COUNT(*) FROM jobglass_deps d JOIN jobglass_jobs p ON p.id = d.parent_id"
                " WHERE d.job_id = ? AND p.state <> 'succeeded'", (job_id,)).fetchone()[0]
            try:
                db.execute(
                    "UPDATE jobglass_jobs SET state = ?, pending_parents = ?, run_at = ?,"
                    " errors = 0, finished_at = NULL, reason = NULL, cancel_requested = 0"
                    " WHERE id = ? AND state IN ('failed', 'cancelled')",
                    ("blocked" if pending else "queued", pending, now, job_id))
            except sqlite3.IntegrityError as exc:
                holder = db.execute(
                    f"SELECT id FROM jobglass_jobs WHERE unique_key = ? AND state IN {_ACTIVE_SQL}",
                    (job.unique_key,)).fetchone()
                raise UniqueKeyConflict(job.unique_key or "", holder["id"] if holder else 0
                                        ) from exc
            return reads.get_job(db, job_id)

    async def set_paused(self, queue: str, paused: bool) -> None:
        def _set() -> None:
            with self._conn.write() as db:
                db.execute("INSERT INTO jobglass_queues (name, paused) VALUES (?, ?)"
                           " ON CONFLICT (name) DO UPDATE SET paused = excluded.paused",
                           (queue, int(paused)))

        await self._conn.run(_set)
        if not paused:
            wakeups.wake(self.path)

    # -- reading ---------------------------------------------------------------
    async def get(self, job_id: int) -> Job:
        return await self._conn.run(lambda: reads.get_job(self._conn.db, job_id))

    async def attempts(self, job_id: int) -> list[Attempt]:
        def _attempts() -> list[Attempt]:
            found = reads.attempts(self._conn.db, job_id)
            if not found:
                reads.get_job(self._conn.db, job_id)  # raises JobNotFound when missing
            return found

        return await self._conn.run(_attempts)

    async def children(self, job_id: int) -> list[int]:
        return await self._conn.run(lambda: reads.children(self._conn.db, job_id))

    async def list_jobs(self, flt: JobFilter | None = None, *, limit: int = 50,
                        before_id: int | None = None) -> Page:
        return await self._conn.run(
            lambda: reads.list_jobs(self._conn.db, flt or JobFilter(), limit, before_id))

    async def queue_stats(self, *, now: float | None = None) -> list[QueueStats]:
        when = time.time() if now is None else now
        return await self._conn.run(lambda: reads.queue_stats(self._conn.db, when))

    async def workers(self) -> list[WorkerInfo]:
        return await self._conn.run(lambda: reads.workers(self._conn.db))

    async def append_logs(self, lines: Sequence[LogLine]) -> None:
        if not lines:
            return

        def _append() -> None:
            with self._conn.write() as db:
                joblogs.append(db, lines)

        await self._conn.run(_append)

    async def read_logs(self, job_id: int, *, attempt: int | None = None, after_id: int = 0,
                        limit: int = 1000) -> list[LogLine]:
        return await self._conn.run(
            lambda: joblogs.read(self._conn.db, job_id, attempt, after_id, limit))

    async def record_stats(self, rows: Sequence[MinuteStats]) -> None:
        if rows:
            await self._conn.run(lambda: self._write(lambda db: stats_sql.record(db, rows)))

    async def read_stats(self, since: float, *, queue: str | None = None
                         ) -> list[MinuteStats]:
        return await self._conn.run(lambda: stats_sql.read(self._conn.db, since, queue))

    async def wait_for_jobs(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        if self._wakeup_loop is not loop:
            if self._wakeup_loop is not None:
                wakeups.unsubscribe(self.path, self._wakeup_loop, self._wakeup)
            self._wakeup = asyncio.Event()
            self._wakeup_loop = loop
            wakeups.subscribe(self.path, loop, self._wakeup)
        deadline = loop.time() + timeout
        while True:
            if self._wakeup.is_set():
                self._wakeup.clear()
                return
            self._wal.forget()
            version = await self._conn.run(
                lambda: int(self._conn.db.execute("PRAGMA data_version").fetchone()[0]))
            if self._data_version is not None and version != self._data_version:
                self._data_version = version
                return
            self._data_version = version
            left = deadline - loop.time()
            if left <= 0:
                return
            poll = self._wal.poll_every(self.poll_interval)
            await self._wal.wait(self._wakeup, min(left, poll))


    # -- API tokens ----------------------------------------------------------------
    async def create_token(self, name: str, scope: Scope, token_hash: str, *,
                           now: float | None = None) -> ApiToken:
        when = time.time() if now is None else now

        def _create() -> ApiToken:
            with self._conn.write() as db:
                return tokens_sql.create(db, name, scope, token_hash, when)

        return await self._conn.run(_create)

    async def list_tokens(self) -> list[ApiToken]:
        return await self._conn.run(lambda: tokens_sql.list_all(self._conn.db))

    async def revoke_token(self, name: str, *, now: float | None = None) -> bool:
        when = time.time() if now is None else now

        def _revoke() -> bool:
            with self._conn.write() as db:
                return tokens_sql.revoke(db, name, when)

        return await self._conn.run(_revoke)

    async def token_by_hash(self, token_hash: str, *, now: float | None = None
                            ) -> ApiToken | None:
        when = time.time() if now is None else now

        def _lookup() -> ApiToken | None:
            found = tokens_sql.by_hash(self._conn.db, token_hash)
            if found is not None and tokens_sql.needs_touch(found, when):
                with self._conn.write() as db:
                    tokens_sql.touch(db, found.id, when)
                found.last_used_at = when
            return found

        return await self._conn.run(_lookup)

    async def has_tokens(self) -> bool:
        return await self._conn.run(lambda: tokens_sql.any_active(self._conn.db))

    # -- health sampling -------------------------------------------------------------
    async def throughput(self, window: float, *, now: float | None = None
                         ) -> list[Throughput]:
        when = time.time() if now is None else now
        return await self._conn.run(lambda: health_sql.throughput(self._conn.db, window, when))

    async def health_sample(self, *, silent_after: float, window: float,
                            now: float | None = None, limit: int = 100) -> HealthSample:
        when = time.time() if now is None else now
        return await self._conn.run(
            lambda: health_sql.sample(self._conn.db, silent_after, window, when, limit))

    async def suspects(self, *, silent_after: float, now: float | None = None,
                       limit: int = 100) -> list[Suspect]:
        when = time.time() if now is None else now
        return await self._conn.run(
            lambda: health_sql.suspects(self._conn.db, silent_after, when, limit))
