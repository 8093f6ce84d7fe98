"""The PostgreSQL store: the `Store` verbs over a connection pool, in one schema.

Many processes on many machines share one database: claims use `FOR UPDATE SKIP
LOCKED`, every transition is a compare-and-set on (id, state, lease), enqueues
NOTIFY the queue's channel in their own transaction, and one session advisory
lock names the maintenance leader. SQL lives in the sibling modules, one
concern each; this class holds the connections and the timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation

from jobglass.model import (
    IllegalTransition,
    Job,
    JobSpec,
    JobState,
    LogLine,
    QueueStats,
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
from jobglass.store.postgres import (
    claims,
    graph,
    health,
    joblogs,
    maintenance,
    reads,
    stats,
    tokens,
)
from jobglass.store.postgres.config import parse_url
from jobglass.store.postgres.enqueue import enqueue, enqueue_plain, is_plain
from jobglass.store.postgres.leader import Leadership
from jobglass.store.postgres.listen import Listener
from jobglass.store.postgres.pool import Conn, PgPool, in_transaction
from jobglass.store.postgres.rows import fetch, sql_states
from jobglass.store.postgres.schema import apply_schema, current_version
from jobglass.store.protocol import HeartbeatReply, JobFilter, Page, Progress, Reaped, Report

_ACTIVE = sql_states([JobState.BLOCKED, JobState.QUEUED, JobState.RUNNING])


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.config = parse_url(url)
        self._s = self.config.schema
        self._pool = PgPool(self.config)
        self._wakeup = asyncio.Event()
        self._wakeup_loop: asyncio.AbstractEventLoop | None = None
        self._listener = Listener(self.config.conninfo, self.config.channel, self._wakeup)
        self._leader = Leadership(self.config.conninfo, self.config.lock_key("leader"))

    @property
    def unreachable_since(self) -> float | None:
        """When calls began failing to reach the database; None while it answers."""
        return self._pool.unreachable_since

    # -- lifecycle -------------------------------------------------------------
    async def open(self) -> None:
        await self._pool.open()
        if self.config.migrate:
            await self.migrate()
        # Listen from the start, so a NOTIFY sent before the first wait is not lost.
        await self._listener.start()

    async def close(self) -> None:
        if self._wakeup_loop is not None:
            wakeups.unsubscribe(self.config.wake_key, self._wakeup_loop, self._wakeup)
            self._wakeup_loop = None
        await self._listener.stop()
        await self._leader.close()
        await self._pool.close()

    async def migrate(self) -> list[int]:
        return await self._pool.run(lambda conn: apply_schema(conn, self.config),
                                    transaction=False)

    async def schema_version(self) -> int:
        return await self._pool.run(lambda conn: current_version(conn, self._s),
                                    transaction=False)

    async def ping(self) -> None:
        async def _ping(conn: Conn) -> None:
            await conn.execute("SELECT 1")

        await self._pool.run(_ping, transaction=False)

    # -- producers -------------------------------------------------------------
    async def enqueue_many(self, specs: Sequence[JobSpec], *, now: float | None = None,
                           connection: AsyncConnection[Any] | None = None) -> list[Job]:
        """Store the jobs in one transaction; all or nothing (see `Store`).

        With `connection` (an open psycopg AsyncConnection of the caller's), the jobs
        are written inside the caller's transaction: they exist, and workers are
        notified, if and only if that transaction commits.
        """
        if not specs:
            return []
        when = time.time() if now is None else now

        async def _enqueue(conn: Conn) -> list[Job]:
            return await enqueue(conn, self._s, self.config.channel, specs, when)

        if connection is not None:
            return await in_transaction(connection, _enqueue)
        if is_plain(specs):
            jobs = await self._pool.run(
                lambda conn: enqueue_plain(conn, self._s, self.config.channel, specs, when),
                transaction=False)
        else:
            jobs = await self._pool.run(_enqueue)
        if any(job.state is JobState.QUEUED for job in jobs):
            wakeups.wake(self.config.wake_key)
        return jobs

    # -- workers ---------------------------------------------------------------
    async def register_worker(self, worker: WorkerInfo) -> None:
        await self._pool.run(lambda conn: maintenance.register_worker(conn, self._s, worker),
                             transaction=False)

    async def claim(self, worker_id: str, queues: Sequence[str], limit: int, *,
                    allow_shell: bool = False, now: float | None = None) -> list[Job]:
        if limit <= 0:
            return []
        when = time.time() if now is None else now
        lease = secrets.token_hex(8)
        # One statement is its own transaction: no BEGIN/COMMIT round trips.
        return await self._pool.run(
            lambda conn: claims.claim(conn, self._s, worker_id, list(queues), limit,
                                      allow_shell, lease, when), transaction=False)

    async def heartbeat(self, worker_id: str, running: Sequence[Progress], *,
                        now: float | None = None) -> HeartbeatReply:
        when = time.time() if now is None else now
        return await self._pool.run(
            lambda conn: maintenance.heartbeat(conn, self._s, worker_id, running, when))

    async def finish_many(self, reports: Sequence[Report], *, now: float | None = None
                          ) -> list[bool]:
        if not reports:
            return []
        when = time.time() if now is None else now

        async def _finish(conn: Conn) -> list[bool]:
            applied, woken = await claims.finish(conn, self._s, self.config.channel, reports,
                                                 when)
            await self._notify(conn, woken)
            return applied

        # A batch of successes is one statement: no BEGIN/COMMIT round trips.
        applied = await self._pool.run(_finish, transaction=not claims.one_statement(reports))
        if any(applied):
            wakeups.wake(self.config.wake_key)
        return applied

    async def stop_worker(self, worker_id: str, *, now: float | None = None) -> None:
        when = time.time() if now is None else now
        await self._pool.run(lambda conn: maintenance.stop_worker(conn, self._s, worker_id, when),
                             transaction=False)

    # -- maintenance -----------------------------------------------------------
    async def reap(self, lease_seconds: float, *, now: float | None = None) -> list[Reaped]:
        when = time.time() if now is None else now

        async def _reap(conn: Conn) -> list[Reaped]:
            reaped = await maintenance.reap(conn, self._s, lease_seconds, when)
            await self._notify(conn, sorted({r.job.queue for r in reaped if r.requeued}))
            return reaped

        reaped = await self._pool.run(_reap)
        if any(r.requeued for r in reaped):
            wakeups.wake(self.config.wake_key)
        return reaped

    async def try_lead(self, holder: str) -> bool:
        return await self._leader.try_lead(holder)

    async def prune(self, older_than: float) -> int:
        return await self._pool.run(lambda conn: maintenance.prune(conn, self._s, older_than),
                                    transaction=False)

    # -- people ----------------------------------------------------------------
    async def cancel(self, job_id: int, reason: str = "cancelled by request", *,
                     now: float | None = None) -> Job:
        when = time.time() if now is None else now
        return await self._pool.run(lambda conn: self._cancel(conn, job_id, reason, when))

    async def _cancel(self, conn: Conn, job_id: int, reason: str, now: float) -> Job:
        s = self._s
        job = await reads.get_job(conn, s, job_id, lock=True)
        if job.state is JobState.RUNNING:
            await conn.execute(f"UPDATE {s}.jobglass_jobs SET cancel_requested = true,"
                               " reason = %s WHERE id = %s AND state = 'running'",
                               (reason, job_id))
        else:
            if not is_legal(job.state, JobState.CANCELLED):
                raise IllegalTransition(job.state.value, JobState.CANCELLED.value, job_id)
            rows = await fetch(
                conn, f"UPDATE {s}.jobglass_jobs SET state = 'cancelled', reason = %s,"
                      " finished_at = %s WHERE id = %s"
                      f" AND state IN {sql_states(sources_of(JobState.CANCELLED))} RETURNING id",
                (reason, float(now), job_id))
            if rows:
                await graph.cancel_dependents(conn, s, [(job_id, f"parent job {job_id} cancelled")],
                                              now)
        return await reads.get_job(conn, s, job_id)

    async def retry(self, job_id: int, *, now: float | None = None) -> Job:
        when = time.time() if now is None else now
        job = await self._pool.run(lambda conn: self._retry(conn, job_id, when))
        wakeups.wake(self.config.wake_key)
        return job

    async def _retry(self, conn: Conn, job_id: int, now: float) -> Job:
        s = self._s
        job = await reads.get_job(conn, s, job_id, lock=True)
        if job.state not in (JobState.FAILED, JobState.CANCELLED):
            # blocked/running -> queued are legal moves, but not a person's retry.
            raise IllegalTransition(job.state.value, JobState.QUEUED.value, job_id)
        # A child retried before its parents succeeded waits for them again. The parents
        # are locked so one finishing now cannot slip between this count and our update.
        parents = await fetch(
            conn, f"SELECT p.state FROM {s}.jobglass_jobs p WHERE p.id IN"
                  f" (SELECT parent_id FROM {s}.jobglass_deps WHERE job_id = %s) FOR SHARE",
            (job_id,))
        pending = sum(1 for p in parents if p["state"] != "succeeded")
        try:
            async with conn.transaction():  # a savepoint: the conflict must not abort ours
                await conn.execute(
                    f"UPDATE {s}.jobglass_jobs SET state = %s, pending_parents = %s,"
                    " run_at = %s, errors = 0, finished_at = NULL, reason = NULL,"
                    " cancel_requested = false WHERE id = %s AND state IN ('failed', 'cancelled')",
                    ("blocked" if pending else "queued", pending, float(now), job_id))
        except UniqueViolation as exc:
            rows = await fetch(conn, f"SELECT id FROM {s}.jobglass_jobs WHERE unique_key = %s"
                                     f" AND state IN {_ACTIVE}", (job.unique_key,))
            raise UniqueKeyConflict(job.unique_key or "", rows[0]["id"] if rows else 0) from exc
        await self._notify(conn, [job.queue])
        return await reads.get_job(conn, s, job_id)

    async def set_paused(self, queue: str, paused: bool) -> None:
        async def _set(conn: Conn) -> None:
            await conn.execute(
                f"INSERT INTO {self._s}.jobglass_queues (name, paused) VALUES (%s, %s)"
                " ON CONFLICT (name) DO UPDATE SET paused = excluded.paused", (queue, paused))
            if not paused:
                await self._notify(conn, [queue])

        await self._pool.run(_set)
        if not paused:
            wakeups.wake(self.config.wake_key)

    # -- reading ---------------------------------------------------------------
    async def get(self, job_id: int) -> Job:
        return await self._pool.run(lambda conn: reads.get_job(conn, self._s, job_id),
                                    transaction=False)

    async def attempts(self, job_id: int) -> list[Attempt]:
        return await self._pool.run(lambda conn: reads.attempts(conn, self._s, job_id),
                                    transaction=False)

    async def children(self, job_id: int) -> list[int]:
        return await self._pool.run(lambda conn: reads.children(conn, self._s, job_id),
                                    transaction=False)

    async def list_jobs(self, flt: JobFilter | None = None, *, limit: int = 50,
                        before_id: int | None = None) -> Page:
        if limit <= 0:
            raise ValueError(f"limit must be at least 1, not {limit}")
        return await self._pool.run(
            lambda conn: reads.list_jobs(conn, self._s, flt or JobFilter(), limit, before_id),
            transaction=False)

    async def queue_stats(self, *, now: float | None = None) -> list[QueueStats]:
        when = time.time() if now is None else now
        return await self._pool.run(lambda conn: reads.queue_stats(conn, self._s, when),
                                    transaction=False)

    async def workers(self) -> list[WorkerInfo]:
        return await self._pool.run(lambda conn: reads.workers(conn, self._s),
                                    transaction=False)

    # -- stored job logs ---------------------------------------------------------
    async def record_stats(self, rows: Sequence[MinuteStats]) -> None:
        if rows:
            await self._pool.run(lambda conn: stats.record(conn, self._s, rows))

    async def read_stats(self, since: float, *, queue: str | None = None
                         ) -> list[MinuteStats]:
        return await self._pool.run(lambda conn: stats.read(conn, self._s, since, queue),
                                    transaction=False)

    async def append_logs(self, lines: Sequence[LogLine]) -> None:
        if lines:
            await self._pool.run(lambda conn: joblogs.append(conn, self._s, lines),
                                 transaction=False)

    async def read_logs(self, job_id: int, *, attempt: int | None = None, after_id: int = 0,
                        limit: int = 1000) -> list[LogLine]:
        return await self._pool.run(
            lambda conn: joblogs.read(conn, self._s, job_id, attempt, after_id, limit),
            transaction=False)

    # -- API tokens --------------------------------------------------------------
    async def create_token(self, name: str, scope: Scope, token_hash: str, *,
                           now: float | None = None) -> ApiToken:
        when = time.time() if now is None else now
        return await self._pool.run(
            lambda conn: tokens.create(conn, self._s, name, scope, token_hash, when),
            transaction=False)

    async def list_tokens(self) -> list[ApiToken]:
        return await self._pool.run(lambda conn: tokens.list_all(conn, self._s),
                                    transaction=False)

    async def revoke_token(self, name: str, *, now: float | None = None) -> bool:
        when = time.time() if now is None else now
        return await self._pool.run(lambda conn: tokens.revoke(conn, self._s, name, when),
                                    transaction=False)

    async def token_by_hash(self, token_hash: str, *, now: float | None = None
                            ) -> ApiToken | None:
        when = time.time() if now is None else now
        return await self._pool.run(
            lambda conn: tokens.by_hash(conn, self._s, token_hash, when), transaction=False)

    async def has_tokens(self) -> bool:
        return await self._pool.run(lambda conn: tokens.any_active(conn, self._s),
                                    transaction=False)

    # -- health sampling -----------------------------------------------------------
    async def throughput(self, window: float, *, now: float | None = None
                         ) -> list[Throughput]:
        when = time.time() if now is None else now
        return await self._pool.run(lambda conn: health.throughput(conn, self._s, window, when),
                                    transaction=False)

    async def health_sample(self, *, silent_after: float, window: float,
                            now: float | None = None, limit: int = 100) -> HealthSample:
        when = time.time() if now is None else now
        return await self._pool.run(
            lambda conn: health.sample(conn, self._s, silent_after, window, when, limit),
            transaction=False)

    async def suspects(self, *, silent_after: float, now: float | None = None,
                       limit: int = 100) -> list[Suspect]:
        when = time.time() if now is None else now
        return await self._pool.run(
            lambda conn: health.suspects(conn, self._s, silent_after, when, limit),
            transaction=False)

    # -- wake-ups --------------------------------------------------------------
    async def _notify(self, conn: Conn, queues: Sequence[str]) -> None:
        """NOTIFY in the caller's transaction: listeners hear it only if it commits."""
        if queues:
            await conn.execute("SELECT pg_notify(%s, q) FROM unnest(%s::text[]) q",
                               (self.config.channel, list(queues)))

    async def wait_for_jobs(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        if self._wakeup_loop is not loop:
            if self._wakeup_loop is not None:
                wakeups.unsubscribe(self.config.wake_key, self._wakeup_loop, self._wakeup)
            self._wakeup_loop = loop
            wakeups.subscribe(self.config.wake_key, loop, self._wakeup)
        # A dead listener (restart, terminated backend) missed notifications: after
        # reconnecting, wake once; if it cannot reconnect, the timeout is the fallback.
        if not self._listener.alive and await self._listener.start():
            self._wakeup.set()
        if not self._wakeup.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)
        self._wakeup.clear()
