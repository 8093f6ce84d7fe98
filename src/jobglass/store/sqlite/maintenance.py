"""The reaper on SQLite: workers silent past their lease are marked dead and their
running jobs taken back, each with evidence. Safe when two reapers race (CAS)."""

from __future__ import annotations

import sqlite3

from jobglass.model import JobState
from jobglass.store.codec import dumps
from jobglass.store.protocol import Reaped
from jobglass.store.rules import after_lost, lost_evidence, lost_message
from jobglass.store.sqlite import joblogs, reads, stats
from jobglass.store.sqlite.graph import cancel_dependents


def reap(db: sqlite3.Connection, lease_seconds: float, now: float) -> list[Reaped]:
    """Each worker is judged by its own lease; `lease_seconds` stands in for a worker
    that declared none and for a job whose worker row is gone."""
    out: list[Reaped] = []
    db.execute(
        "UPDATE jobglass_workers SET state = 'dead', evidence = json_object("
        "'last_heartbeat_age_s', round(:now - last_heartbeat, 3),"
        " 'lease_s', COALESCE(lease_s, :lease), 'marked_dead_at', :now,"
        " 'held_jobs', json(current_jobs))"
        " WHERE state = 'running' AND last_heartbeat < :now - COALESCE(lease_s, :lease)",
        {"now": now, "lease": lease_seconds},
    )
    stale = db.execute(
        "SELECT j.id, j.lease, j.attempt, j.errors, j.max_retries, j.backoff_base,"
        " j.backoff_cap, j.cancel_requested, j.worker_id, w.host, w.pid,"
        " w.last_heartbeat, w.state AS wstate, COALESCE(w.lease_s, :lease) AS lease_s"
        " FROM jobglass_jobs j LEFT JOIN jobglass_workers w ON w.id = j.worker_id"
        " WHERE j.state = 'running' AND (w.state IN ('dead', 'stopped')"
        " OR (w.id IS NULL AND j.started_at < :now - :lease))",
        {"now": now, "lease": lease_seconds},
    ).fetchall()
    for row in stale:
        reaped = _reap_one(db, row, now)
        if reaped is not None:
            out.append(reaped)
    return out


def _reap_one(db: sqlite3.Connection, row: sqlite3.Row, now: float) -> Reaped | None:
    errors = row["errors"] + 1
    state, run_at = after_lost(errors, row["max_retries"], row["backoff_base"],
                               row["backoff_cap"], now)
    if row["cancel_requested"]:  # someone asked to cancel it: do not run it again
        state, run_at = JobState.CANCELLED, None
    evidence = lost_evidence(worker_id=row["worker_id"], host=row["host"], pid=row["pid"],
                             last_heartbeat=row["last_heartbeat"],
                             worker_state=row["wstate"], lease_seconds=row["lease_s"], now=now)
    message = lost_message(evidence)
    changed = db.execute(
        "UPDATE jobglass_jobs SET state = ?, errors = ?, lease = NULL, error = ?,"
        " run_at = COALESCE(?, run_at), finished_at = CASE WHEN ? = 'queued' THEN NULL"
        " ELSE ? END WHERE id = ? AND state = 'running' AND lease = ?",
        (state.value, errors, message, run_at, state.value, now, row["id"], row["lease"]),
    ).rowcount
    if changed != 1:
        return None
    db.execute(
        "UPDATE jobglass_attempts SET ended_at = ?, outcome = 'lost',"
        " error_type = 'WorkerLost', error_message = ?, evidence = ?"
        " WHERE job_id = ? AND lease = ?",
        (now, message, dumps(evidence), row["id"], row["lease"]),
    )
    if state is not JobState.QUEUED:
        cancel_dependents(db, row["id"], f"parent job {row['id']} {state}", now)
    job = reads.jobs_by_ids(db, [row["id"]])[row["id"]]
    attempt = reads.attempts(db, row["id"])[-1]
    return Reaped(job=job, attempt=attempt, requeued=state is JobState.QUEUED)


def prune(db: sqlite3.Connection, older_than: float) -> int:
    """Delete terminal jobs finished before `older_than` with their attempts, edges and
    log lines; also per-minute figures and stopped or dead workers that old."""
    ids = [r["id"] for r in db.execute(
        "SELECT id FROM jobglass_jobs WHERE state IN ('succeeded','failed','cancelled')"
        " AND finished_at < ?", (older_than,))]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        db.execute(f"DELETE FROM jobglass_attempts WHERE job_id IN ({marks})", chunk)
        db.execute(f"DELETE FROM jobglass_deps WHERE job_id IN ({marks})"
                   f" OR parent_id IN ({marks})", chunk + chunk)
        joblogs.delete_for(db, chunk)
        db.execute(f"DELETE FROM jobglass_jobs WHERE id IN ({marks})", chunk)
    stats.prune(db, older_than)
    db.execute("DELETE FROM jobglass_workers WHERE state IN ('stopped', 'dead')"
               " AND last_heartbeat < ?", (older_than,))
    return len(ids)
