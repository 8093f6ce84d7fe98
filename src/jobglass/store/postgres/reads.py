"""Read-only queries of the PostgreSQL store; each is one statement, no transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from jobglass.model import Attempt, Job, JobNotFound, JobState, QueueStats, WorkerInfo
from jobglass.model.states import ACTIVE
from jobglass.store.postgres.rows import (
    attempt_from_row,
    fetch,
    fetch_jobs,
    job_columns,
    worker_from_row,
)
from jobglass.store.protocol import JobFilter, Page

Conn = AsyncConnection[Any]


async def jobs_by_ids(conn: Conn, s: str, ids: Sequence[int], *, lock: bool = False
                      ) -> dict[int, Job]:
    if not ids:
        return {}
    jobs = await fetch_jobs(conn, f"SELECT {job_columns(s)} FROM {s}.jobglass_jobs j"
                                  f" WHERE j.id = ANY(%s){' FOR UPDATE' if lock else ''}",
                            (list(ids),))
    return {job.id: job for job in jobs}


async def get_job(conn: Conn, s: str, job_id: int, *, lock: bool = False) -> Job:
    job = (await jobs_by_ids(conn, s, [job_id], lock=lock)).get(job_id)
    if job is None:
        raise JobNotFound(job_id)
    return job


async def attempts(conn: Conn, s: str, job_id: int) -> list[Attempt]:
    rows = await fetch(conn, f"SELECT * FROM {s}.jobglass_attempts WHERE job_id = %s"
                             " ORDER BY number", (job_id,))
    if not rows:
        await get_job(conn, s, job_id)  # raises JobNotFound when missing
    return [attempt_from_row(r) for r in rows]


async def children(conn: Conn, s: str, job_id: int) -> list[int]:
    rows = await fetch(conn, f"SELECT job_id FROM {s}.jobglass_deps WHERE parent_id = %s"
                             " ORDER BY job_id", (job_id,))
    return [int(r["job_id"]) for r in rows]


async def list_jobs(conn: Conn, s: str, flt: JobFilter, limit: int, before_id: int | None
                    ) -> Page:
    where: list[str] = []
    params: list[object] = []
    if flt.states:
        where.append("j.state = ANY(%s)")
        params.append([st.value for st in flt.states])
    for column, value in (("queue", flt.queue), ("task", flt.task),
                          ("request_id", flt.request_id)):
        if value is not None:
            where.append(f"j.{column} = %s")
            params.append(value)
    if flt.created_after is not None:
        where.append("j.created_at >= %s")
        params.append(float(flt.created_after))
    if flt.created_before is not None:
        where.append("j.created_at < %s")
        params.append(float(flt.created_before))
    if flt.above_id is not None:
        where.append("j.id > %s")
        params.append(flt.above_id)
    if before_id is not None:
        where.append("j.id < %s")
        params.append(before_id)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    found = await fetch_jobs(conn, f"SELECT {job_columns(s)} FROM {s}.jobglass_jobs j {clause}"
                                   " ORDER BY j.id DESC LIMIT %s", (*params, limit + 1))
    jobs = found[:limit]
    next_cursor = jobs[-1].id if len(found) > limit else None
    return Page(jobs=jobs, next_cursor=next_cursor)


async def queue_stats(conn: Conn, s: str, now: float) -> list[QueueStats]:
    stats: dict[str, QueueStats] = {}

    def entry(name: str) -> QueueStats:
        if name not in stats:
            stats[name] = QueueStats(queue=name, counts={st: 0 for st in sorted(ACTIVE)},
                                     oldest_ready_age=None)
        return stats[name]

    # One branch per state, each through the partial index of that state (all cover
    # `queue`): none of them grows with finished history.
    counts = " UNION ALL ".join(
        f"SELECT 'count' AS kind, queue, '{state.value}' AS state, COUNT(*)::float8 AS value"
        f" FROM {s}.jobglass_jobs WHERE state = '{state.value}' GROUP BY queue"
        for state in sorted(ACTIVE))
    rows = await fetch(
        conn,
        f"{counts} UNION ALL SELECT 'oldest', queue, NULL, MIN(run_at)"
        f" FROM {s}.jobglass_jobs WHERE state = 'queued' AND run_at <= %s GROUP BY queue"
        f" UNION ALL SELECT 'paused', name, NULL, paused::int FROM {s}.jobglass_queues",
        (float(now),))
    for row in rows:
        item = entry(row["queue"])
        if row["kind"] == "count":
            item.counts[JobState(row["state"])] = int(row["value"])
        elif row["kind"] == "oldest":
            item.oldest_ready_age = max(0.0, now - row["value"])
        else:
            item.paused = bool(row["value"])
    return [stats[name] for name in sorted(stats)]


async def workers(conn: Conn, s: str) -> list[WorkerInfo]:
    rows = await fetch(conn, f"SELECT * FROM {s}.jobglass_workers ORDER BY started_at DESC")
    return [worker_from_row(r) for r in rows]
