"""Read-only queries of the SQLite store (no transaction needed under WAL)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from jobglass.model import Attempt, Job, JobNotFound, JobState, QueueStats, WorkerInfo
from jobglass.model.states import ACTIVE
from jobglass.store.protocol import JobFilter, Page
from jobglass.store.sqlite.rows import (
    JOB_SELECT,
    attempt_from_row,
    job_from_values,
    tuple_cursor,
    worker_from_row,
)


def jobs_by_ids(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, Job]:
    found: dict[int, Job] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in tuple_cursor(db).execute(
                f"SELECT {JOB_SELECT} FROM jobglass_jobs WHERE id IN ({marks})", chunk):
            found[row[0]] = job_from_values(row)
    if found:
        attach_parents(db, found)
    return found


def attach_parents(db: sqlite3.Connection, jobs: dict[int, Job]) -> None:
    ids = list(jobs)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(
                f"SELECT job_id, parent_id FROM jobglass_deps WHERE job_id IN ({marks})"
                " ORDER BY parent_id", chunk):
            jobs[row[0]].parents.append(row[1])


def get_job(db: sqlite3.Connection, job_id: int) -> Job:
    job = jobs_by_ids(db, [job_id]).get(job_id)
    if job is None:
        raise JobNotFound(job_id)
    return job


def attempts(db: sqlite3.Connection, job_id: int) -> list[Attempt]:
    rows = db.execute("SELECT * FROM jobglass_attempts WHERE job_id = ? ORDER BY number",
                      (job_id,))
    return [attempt_from_row(r) for r in rows]


def children(db: sqlite3.Connection, job_id: int) -> list[int]:
    rows = db.execute("SELECT job_id FROM jobglass_deps WHERE parent_id = ? ORDER BY job_id",
                      (job_id,))
    return [r[0] for r in rows]


def list_jobs(db: sqlite3.Connection, flt: JobFilter, limit: int, before_id: int | None
              ) -> Page:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    where: list[str] = []
    params: list[object] = []
    if flt.states:
        where.append(f"state IN ({','.join('?' * len(flt.states))})")
        params.extend(s.value for s in flt.states)
    for column, value in (("queue", flt.queue), ("task", flt.task),
                          ("request_id", flt.request_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if flt.created_after is not None:
        where.append("created_at >= ?")
        params.append(flt.created_after)
    if flt.created_before is not None:
        where.append("created_at < ?")
        params.append(flt.created_before)
    if flt.above_id is not None:
        where.append("id > ?")
        params.append(flt.above_id)
    if before_id is not None:
        where.append("id < ?")
        params.append(before_id)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    rows = db.execute(f"SELECT id FROM jobglass_jobs {clause} ORDER BY id DESC LIMIT ?",
                      (*params, limit + 1)).fetchall()
    ids = [r[0] for r in rows[:limit]]
    found = jobs_by_ids(db, ids)
    jobs = [found[i] for i in ids]
    next_cursor = ids[-1] if len(rows) > limit else None
    return Page(jobs=jobs, next_cursor=next_cursor)


_COUNT_INDEXES = ((JobState.BLOCKED, "jobglass_jobs_blocked"),
                  (JobState.QUEUED, "jobglass_jobs_ready"),
                  (JobState.RUNNING, "jobglass_jobs_running"))


def queue_stats(db: sqlite3.Connection, now: float) -> list[QueueStats]:
    stats: dict[str, QueueStats] = {}

    def entry(name: str) -> QueueStats:
        if name not in stats:
            stats[name] = QueueStats(queue=name, counts={s: 0 for s in sorted(ACTIVE)},
                                     oldest_ready_age=None)
        return stats[name]

    # One partial index per state, each covering `queue`: none of them grows with history.
    for state, index in _COUNT_INDEXES:
        for row in db.execute(
                f"SELECT queue, COUNT(*) FROM jobglass_jobs INDEXED BY {index}"
                f" WHERE state = '{state.value}' GROUP BY queue"):
            entry(row[0]).counts[state] = row[1]
    for row in db.execute(
            "SELECT queue, MIN(run_at) FROM jobglass_jobs INDEXED BY jobglass_jobs_ready"
            " WHERE state = 'queued' AND run_at <= ? GROUP BY queue", (now,)):
        entry(row[0]).oldest_ready_age = max(0.0, now - row[1])
    for row in db.execute("SELECT name, paused FROM jobglass_queues"):
        entry(row[0]).paused = bool(row[1])
    return [stats[name] for name in sorted(stats)]


def workers(db: sqlite3.Connection) -> list[WorkerInfo]:
    rows = db.execute("SELECT * FROM jobglass_workers ORDER BY started_at DESC")
    return [worker_from_row(r) for r in rows]
