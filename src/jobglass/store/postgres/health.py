"""The health sample and queue throughput, read from PostgreSQL.

Costs: suspects come from running jobs only (the partial running index);
throughput and the newest finish range-scan `jobglass_jobs_done` (finished_at,
queue, state) over the window, so history outside it is never read.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from jobglass.model.health import (
    THROUGHPUT_SAMPLE,
    HealthSample,
    Suspect,
    Throughput,
    sampled_throughput,
)
from jobglass.store.postgres import reads
from jobglass.store.postgres.rows import fetch

Conn = AsyncConnection[Any]
_DONE = "('succeeded', 'failed', 'cancelled')"  # must match the jobglass_jobs_done index


async def throughput(conn: Conn, s: str, window: float, now: float) -> list[Throughput]:
    """As on SQLite: at most THROUGHPUT_SAMPLE of the newest ended jobs are read."""
    rows = await fetch(
        conn, "SELECT queue, state, COUNT(*) AS n, MIN(finished_at) AS oldest FROM"
              f" (SELECT queue, state, finished_at FROM {s}.jobglass_jobs"
              f"  WHERE state IN {_DONE} AND finished_at >= %s"
              "  ORDER BY finished_at DESC LIMIT %s) newest GROUP BY queue, state",
        (float(now - window), THROUGHPUT_SAMPLE))
    return sampled_throughput([(r["queue"], r["state"], int(r["n"]), float(r["oldest"]))
                               for r in rows], window, now)


async def last_finished(conn: Conn, s: str) -> float | None:
    rows = await fetch(
        conn, f"SELECT finished_at FROM {s}.jobglass_jobs"
              f" WHERE state IN {_DONE} AND state <> 'cancelled' AND finished_at IS NOT NULL"
              " ORDER BY finished_at DESC LIMIT 1")
    return float(rows[0]["finished_at"]) if rows else None


async def suspects(conn: Conn, s: str, silent_after: float, now: float, limit: int
                   ) -> list[Suspect]:
    rows = await fetch(
        conn,
        "SELECT j.id, j.queue, j.task, j.started_at, j.timeout, j.worker_id,"
        " w.state AS wstate, w.last_heartbeat, w.host, w.pid, w.lease_s"
        f" FROM {s}.jobglass_jobs j LEFT JOIN {s}.jobglass_workers w ON w.id = j.worker_id"
        " WHERE j.state = 'running' AND ("
        "  (j.timeout IS NOT NULL AND j.started_at + j.timeout < %s)"
        "  OR w.id IS NULL OR w.state <> 'running' OR w.last_heartbeat < %s)"
        " ORDER BY j.started_at, j.id LIMIT %s",
        (float(now), float(now - silent_after), limit))
    return [Suspect(job_id=r["id"], queue=r["queue"], task=r["task"],
                    started_at=r["started_at"], timeout=r["timeout"], worker_id=r["worker_id"],
                    worker_state=r["wstate"], last_heartbeat=r["last_heartbeat"],
                    host=r["host"], pid=r["pid"], lease=r["lease_s"])
            for r in rows]


async def sample(conn: Conn, s: str, silent_after: float, window: float, now: float,
                 limit: int) -> HealthSample:
    return HealthSample(now=now, window=window, queues=await reads.queue_stats(conn, s, now),
                        throughput=await throughput(conn, s, window, now),
                        suspects=await suspects(conn, s, silent_after, now, limit),
                        last_finished_at=await last_finished(conn, s))
