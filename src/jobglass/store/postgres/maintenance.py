"""Workers' bookkeeping and the maintenance verbs: heartbeat, reap, prune.

The reaper is safe when two run at once: the stale jobs are read with
`SKIP LOCKED` and every take-back is a compare-and-set on (id, state, lease).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from jobglass.model import TERMINAL, JobState, WorkerInfo
from jobglass.store.codec import dumps
from jobglass.store.postgres import graph, reads
from jobglass.store.postgres.rows import attempt_from_row, fetch, sql_states
from jobglass.store.protocol import HeartbeatReply, Progress, Reaped
from jobglass.store.rules import after_lost, heartbeat_reply, lost_evidence, lost_message

Conn = AsyncConnection[Any]
_TERMINAL = sql_states(sorted(TERMINAL))


async def register_worker(conn: Conn, s: str, worker: WorkerInfo) -> None:
    await conn.execute(
        f"INSERT INTO {s}.jobglass_workers AS w (id, host, pid, queues, started_at,"
        " last_heartbeat, state, current_jobs, jobs_done, evidence, lease_s)"
        " VALUES (%s, %s, %s, %s, %s, %s, 'running', %s, 0, NULL, %s)"
        " ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,"
        " queues = excluded.queues, started_at = excluded.started_at,"
        " last_heartbeat = excluded.last_heartbeat, state = excluded.state,"
        " current_jobs = excluded.current_jobs, jobs_done = 0, evidence = NULL,"
        " lease_s = excluded.lease_s",
        (worker.id, worker.host, worker.pid, dumps(worker.queues), float(worker.started_at),
         float(worker.last_heartbeat), dumps(worker.current_jobs),
         None if worker.lease is None else float(worker.lease)))


async def heartbeat(conn: Conn, s: str, worker_id: str, running: Sequence[Progress],
                    now: float) -> HeartbeatReply:
    await conn.execute(
        f"UPDATE {s}.jobglass_workers SET last_heartbeat = %s, current_jobs = %s,"
        " state = 'running' WHERE id = %s",
        (float(now), dumps([p.job_id for p in running]), worker_id))
    moving = [p for p in running
              if p.done is not None or p.total is not None or p.message is not None]
    if moving:
        await conn.execute(
            f"UPDATE {s}.jobglass_jobs j SET progress_done = p.done,"
            " progress_total = p.total, progress_message = p.message"
            " FROM unnest(%s::bigint[], %s::text[], %s::float8[], %s::float8[], %s::text[])"
            " AS p(id, lease, done, total, message)"
            " WHERE j.id = p.id AND j.state = 'running' AND j.lease = p.lease",
            ([p.job_id for p in moving], [p.lease for p in moving],
             [_num(p.done) for p in moving], [_num(p.total) for p in moving],
             [p.message for p in moving]))
    rows = await fetch(conn, f"SELECT id, lease, cancel_requested, started_at"
                             f" FROM {s}.jobglass_jobs"
                             " WHERE state = 'running' AND worker_id = %s", (worker_id,))
    return heartbeat_reply(running, [(r["id"], r["lease"], bool(r["cancel_requested"]),
                                      float(r["started_at"] or 0.0)) for r in rows])


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)


async def stop_worker(conn: Conn, s: str, worker_id: str, now: float) -> None:
    await conn.execute(f"UPDATE {s}.jobglass_workers SET state = 'stopped',"
                       " last_heartbeat = %s, current_jobs = '[]' WHERE id = %s",
                       (float(now), worker_id))


async def reap(conn: Conn, s: str, lease_seconds: float, now: float) -> list[Reaped]:
    """Each worker is judged by its own lease; `lease_seconds` stands in for a worker
    that declared none and for a job whose worker row is gone."""
    params = {"now": float(now), "lease": float(lease_seconds)}
    await conn.execute(
        f"UPDATE {s}.jobglass_workers SET state = 'dead', evidence = json_build_object("
        " 'last_heartbeat_age_s', round((%(now)s - last_heartbeat)::numeric, 3)::float8,"
        " 'lease_s', COALESCE(lease_s, %(lease)s), 'marked_dead_at', %(now)s::float8,"
        " 'held_jobs', current_jobs::json)::text"
        " WHERE state = 'running' AND last_heartbeat < %(now)s - COALESCE(lease_s, %(lease)s)",
        params)
    stale = await fetch(
        conn,
        "SELECT j.id, j.lease, j.errors, j.max_retries, j.backoff_base, j.backoff_cap,"
        " j.cancel_requested, j.worker_id, w.host, w.pid, w.last_heartbeat, w.state AS wstate,"
        " COALESCE(w.lease_s, %(lease)s) AS lease_s"
        f" FROM {s}.jobglass_jobs j LEFT JOIN {s}.jobglass_workers w ON w.id = j.worker_id"
        " WHERE j.state = 'running' AND (w.state IN ('dead', 'stopped')"
        " OR (w.id IS NULL AND j.started_at < %(now)s - %(lease)s))"
        " ORDER BY j.id FOR UPDATE OF j SKIP LOCKED", params)
    if not stale:
        return []
    plans = [_plan(row, now) for row in stale]
    rows = await fetch(
        conn,
        f"UPDATE {s}.jobglass_jobs j SET state = p.state, errors = p.errors, lease = NULL,"
        " error = p.message, run_at = COALESCE(p.run_at, j.run_at),"
        " finished_at = CASE WHEN p.state = 'queued' THEN NULL ELSE %s END"
        " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::int[], %s::text[],"
        " %s::float8[]) AS p(id, lease, state, errors, message, run_at)"
        " WHERE j.id = p.id AND j.state = 'running' AND j.lease = p.lease RETURNING j.id",
        (float(now), [p["id"] for p in plans], [p["lease"] for p in plans],
         [p["state"] for p in plans], [p["errors"] for p in plans],
         [p["message"] for p in plans], [p["run_at"] for p in plans]))
    taken = {r["id"] for r in rows}
    plans = [p for p in plans if p["id"] in taken]
    if not plans:
        return []
    ended = await fetch(
        conn,
        f"UPDATE {s}.jobglass_attempts a SET ended_at = %s, outcome = 'lost',"
        " error_type = 'WorkerLost', error_message = p.message, evidence = p.evidence"
        " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[])"
        " AS p(id, lease, message, evidence)"
        " WHERE a.job_id = p.id AND a.lease = p.lease RETURNING a.*",
        (float(now), [p["id"] for p in plans], [p["lease"] for p in plans],
         [p["message"] for p in plans], [p["evidence"] for p in plans]))
    await graph.cancel_dependents(
        conn, s, [(p["id"], f"parent job {p['id']} {p['state']}") for p in plans
                  if p["state"] != JobState.QUEUED.value], now)
    jobs = await reads.jobs_by_ids(conn, s, [p["id"] for p in plans])
    lost = {r["job_id"]: attempt_from_row(r) for r in ended}
    return [Reaped(job=jobs[p["id"]], attempt=lost[p["id"]],
                   requeued=p["state"] == JobState.QUEUED.value)
            for p in plans if p["id"] in lost]


def _plan(row: dict[str, Any], now: float) -> dict[str, Any]:
    """What becomes of one stale job: decided in Python by the shared rules."""
    errors = row["errors"] + 1
    state, run_at = after_lost(errors, row["max_retries"], row["backoff_base"],
                               row["backoff_cap"], now)
    if row["cancel_requested"]:  # someone asked to cancel it: do not run it again
        state, run_at = JobState.CANCELLED, None
    evidence = lost_evidence(worker_id=row["worker_id"], host=row["host"], pid=row["pid"],
                             last_heartbeat=row["last_heartbeat"], worker_state=row["wstate"],
                             lease_seconds=row["lease_s"], now=now)
    return {"id": row["id"], "lease": row["lease"], "state": state.value, "errors": errors,
            "message": lost_message(evidence), "evidence": dumps(evidence),
            "run_at": None if run_at is None else float(run_at)}


async def prune(conn: Conn, s: str, older_than: float) -> int:
    rows = await fetch(
        conn,
        f"WITH gone AS (DELETE FROM {s}.jobglass_jobs WHERE state IN {_TERMINAL}"
        "  AND finished_at < %s RETURNING id),"
        f" a AS (DELETE FROM {s}.jobglass_attempts WHERE job_id IN (SELECT id FROM gone)),"
        f" d AS (DELETE FROM {s}.jobglass_deps WHERE job_id IN (SELECT id FROM gone)"
        "  OR parent_id IN (SELECT id FROM gone)),"
        f" l AS (DELETE FROM {s}.jobglass_job_logs WHERE job_id IN (SELECT id FROM gone))"
        " SELECT COUNT(*) AS n FROM gone", (float(older_than),))
    await conn.execute(f"DELETE FROM {s}.jobglass_stats WHERE minute < %s",
                       (int(older_than // 60),))
    await conn.execute(f"DELETE FROM {s}.jobglass_workers WHERE state IN ('stopped', 'dead')"
                       " AND last_heartbeat < %s", (float(older_than),))
    return int(rows[0]["n"])
