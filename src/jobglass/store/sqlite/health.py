"""The health sample and queue throughput, read from SQLite.

Costs: suspects come from running jobs only; throughput and the newest finish
scan `jobglass_jobs_done` (finished_at, queue, state) over the window, an index
that covers both queries, so history outside the window is never read.
"""

from __future__ import annotations

import sqlite3

from jobglass.model.health import (
    THROUGHPUT_SAMPLE,
    HealthSample,
    Suspect,
    Throughput,
    sampled_throughput,
)
from jobglass.store.sqlite import reads

_DONE = "('succeeded', 'failed', 'cancelled')"  # must match the jobglass_jobs_done index


def throughput(db: sqlite3.Connection, window: float, now: float) -> list[Throughput]:
    """Jobs ended per queue in the window — reading at most THROUGHPUT_SAMPLE of the
    newest; when that many ended sooner, the window shrinks to the span they cover
    (rates stay right, and a busy hour costs what a quiet one does)."""
    rows = db.execute(
        "SELECT queue, state, COUNT(*), MIN(finished_at) FROM (SELECT queue, state,"
        " finished_at FROM jobglass_jobs INDEXED BY jobglass_jobs_done"
        f" WHERE state IN {_DONE} AND finished_at >= ? ORDER BY finished_at DESC LIMIT ?)"
        " GROUP BY queue, state", (now - window, THROUGHPUT_SAMPLE)).fetchall()
    return sampled_throughput([(r[0], r[1], r[2], r[3]) for r in rows], window, now)


def last_finished(db: sqlite3.Connection) -> float | None:
    row = db.execute(
        "SELECT finished_at FROM jobglass_jobs INDEXED BY jobglass_jobs_done"
        f" WHERE state IN {_DONE} AND state <> 'cancelled' AND finished_at IS NOT NULL"
        " ORDER BY finished_at DESC LIMIT 1").fetchone()
    return None if row is None else float(row[0])


def suspects(db: sqlite3.Connection, silent_after: float, now: float, limit: int
             ) -> list[Suspect]:
    rows = db.execute(
        "SELECT j.id, j.queue, j.task, j.started_at, j.timeout, j.worker_id,"
        " w.state AS wstate, w.last_heartbeat, w.host, w.pid, w.lease_s"
        " FROM jobglass_jobs j LEFT JOIN jobglass_workers w ON w.id = j.worker_id"
        " WHERE j.state = 'running' AND ("
        "  (j.timeout IS NOT NULL AND j.started_at + j.timeout < ?)"
        "  OR w.id IS NULL OR w.state <> 'running' OR w.last_heartbeat < ?)"
        " ORDER BY j.started_at, j.id LIMIT ?",
        (now, now - silent_after, limit))
    return [Suspect(job_id=r["id"], queue=r["queue"], task=r["task"], started_at=r["started_at"],
                    timeout=r["timeout"], worker_id=r["worker_id"], worker_state=r["wstate"],
                    last_heartbeat=r["last_heartbeat"], host=r["host"], pid=r["pid"],
                    lease=r["lease_s"])
            for r in rows]


def sample(db: sqlite3.Connection, silent_after: float, window: float, now: float, limit: int
           ) -> HealthSample:
    return HealthSample(now=now, window=window, queues=reads.queue_stats(db, now),
                        throughput=throughput(db, window, now),
                        suspects=suspects(db, silent_after, now, limit),
                        last_finished_at=last_finished(db))
