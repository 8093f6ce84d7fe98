"""The worker's verbs on SQLite: claim a batch, heartbeat, finish a batch. Each
runs inside the caller's write transaction; every transition is a compare-and-set
on (id, state='running', lease)."""

from __future__ import annotations

import secrets
import sqlite3
from collections import Counter
from collections.abc import Sequence

from jobglass.model import Job, JobState, Outcome
from jobglass.store.codec import dumps
from jobglass.store.protocol import HeartbeatReply, Progress, Report
from jobglass.store.rules import heartbeat_reply, spends_retry, target_state
from jobglass.store.sqlite import reads
from jobglass.store.sqlite.graph import cancel_dependents, release_dependents
from jobglass.store.sqlite.rows import JOB_SELECT, job_from_values, tuple_cursor

ID_CHUNK = 500  # ids a statement: under SQLite's oldest variable limit (999)


def claim(db: sqlite3.Connection, worker_id: str, queues: list[str], limit: int, allow_shell: bool,
           now: float) -> list[Job]:
    lease = secrets.token_hex(8)
    queue_filter = f"AND queue IN ({','.join('?' * len(queues))})" if queues else ""
    shell_filter = "" if allow_shell else "AND kind = 'python'"
    sql = (
        "UPDATE jobglass_jobs SET state = 'running', attempt = attempt + 1, lease = ?,"
        " worker_id = ?, started_at = ?, cancel_requested = 0, progress_done = NULL,"
        " progress_total = NULL, progress_message = NULL"
        " WHERE id IN (SELECT id FROM jobglass_jobs WHERE state = 'queued' AND run_at <= ?"
        f" {queue_filter} {shell_filter}"
        " AND queue NOT IN (SELECT name FROM jobglass_queues WHERE paused = 1)"
        " ORDER BY priority DESC, run_at, id LIMIT ?) AND state = 'queued'"
        f" RETURNING {JOB_SELECT}"
    )
    rows = tuple_cursor(db).execute(sql, (lease, worker_id, now, now, *queues, limit)).fetchall()
    claimed = {row[0]: job_from_values(row) for row in rows}
    ids = list(claimed)
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start:start + ID_CHUNK]
        db.execute(
            "INSERT INTO jobglass_attempts (job_id, number, worker_id, lease, started_at,"
            " ready_at) SELECT id, attempt, ?, ?, ?, run_at FROM jobglass_jobs"
            f" WHERE id IN ({','.join('?' * len(chunk))})",
            (worker_id, lease, now, *chunk))
    if claimed:
        reads.attach_parents(db, claimed)
    return sorted(claimed.values(), key=lambda j: (-j.priority, j.run_at, j.id))


def heartbeat(db: sqlite3.Connection, worker_id: str, running: Sequence[Progress], now: float
               ) -> HeartbeatReply:
    db.execute(
        "UPDATE jobglass_workers SET last_heartbeat = ?, current_jobs = ?,"
        " state = 'running' WHERE id = ?",
        (now, dumps([p.job_id for p in running]), worker_id),
    )
    db.executemany(
        "UPDATE jobglass_jobs SET progress_done = ?, progress_total = ?,"
        " progress_message = ? WHERE id = ? AND state = 'running' AND lease = ?",
        [(p.done, p.total, p.message, p.job_id, p.lease) for p in running
         if p.done is not None or p.total is not None or p.message is not None],
    )
    held = [(r["id"], r["lease"], bool(r["cancel_requested"]), r["started_at"] or 0.0)
            for r in db.execute(
                "SELECT id, lease, cancel_requested, started_at FROM jobglass_jobs"
                " WHERE state = 'running' AND worker_id = ?", (worker_id,))]
    return heartbeat_reply(running, held)


def finish(db: sqlite3.Connection, reports: Sequence[Report], now: float
           ) -> tuple[list[bool], bool]:
    """Apply each report whose lease still holds; return (applied flags, some job
    became ready). Per-batch work (worker counters, dependents) is done once."""
    applied: list[bool] = [False] * len(reports)
    woke = False
    done_by: Counter[str] = Counter()
    ended: dict[int, JobState] = {}
    fast, slow = _split_successes(reports)
    for start in range(0, len(fast), SUCCESS_CHUNK):
        chunk = fast[start:start + SUCCESS_CHUNK]
        for job_id, worker_id in _succeed_many(db, [reports[i] for i in chunk], now):
            ended[job_id] = JobState.SUCCEEDED
            if worker_id:
                done_by[worker_id] += 1
        for i in chunk:
            applied[i] = reports[i].job_id in ended
    for i in slow:
        row = _finish_one(db, reports[i], now)
        if row is None:
            continue
        applied[i] = True
        state = JobState(row["state"])
        ended[reports[i].job_id] = state
        woke = woke or state is JobState.QUEUED
        if row["worker_id"]:
            done_by[row["worker_id"]] += 1
    if done_by:
        db.executemany("UPDATE jobglass_workers SET jobs_done = jobs_done + ? WHERE id = ?",
                       [(n, worker) for worker, n in done_by.items()])
    for parent in _with_children(db, list(ended)):
        state = ended[parent]
        if state is JobState.SUCCEEDED:
            woke = bool(release_dependents(db, parent, now)) or woke
        elif state in (JobState.FAILED, JobState.CANCELLED):
            cancel_dependents(db, parent, f"parent job {parent} {state}", now)
    return applied, woke


SUCCESS_CHUNK = 500  # 4 parameters a report: well under SQLite's variable limit


def _split_successes(reports: Sequence[Report]) -> tuple[list[int], list[int]]:
    """Indexes of plain successes (the common case, applied set-wise) and of the rest.
    A job reported twice goes the slow way the second time, so each CAS is judged once."""
    fast: list[int] = []
    slow: list[int] = []
    seen: set[int] = set()
    for i, report in enumerate(reports):
        if (report.outcome is Outcome.SUCCEEDED and report.retry_at is None
                and report.job_id not in seen):
            fast.append(i)
            seen.add(report.job_id)
        else:
            slow.append(i)
    return fast, slow


def _succeed_many(db: sqlite3.Connection, reports: Sequence[Report], now: float
                  ) -> list[tuple[int, str | None]]:
    """Successes in two statements, each a compare-and-set on (id, running, lease) per
    row; returns (id, worker) of the jobs that took it."""
    values = ",".join("(?, ?, ?)" for _ in reports)
    params: list[object] = []
    for report in reports:
        params.extend((report.job_id, report.lease, dumps(report.result)))
    done = [(r[0], r[1]) for r in db.execute(
        f"WITH r(id, lease, result) AS (VALUES {values})"
        " UPDATE jobglass_jobs SET state = 'succeeded', finished_at = ?, result = r.result,"
        " lease = NULL FROM r WHERE jobglass_jobs.id = r.id"
        " AND jobglass_jobs.state = 'running' AND jobglass_jobs.lease = r.lease"
        " RETURNING jobglass_jobs.id, jobglass_jobs.worker_id", (*params, now))]
    if done:
        leases = {r.job_id: r.lease for r in reports}
        pairs = ",".join("(?, ?)" for _ in done)
        db.execute(
            f"WITH r(job_id, lease) AS (VALUES {pairs})"
            " UPDATE jobglass_attempts SET ended_at = ?, outcome = 'succeeded' FROM r"
            " WHERE jobglass_attempts.job_id = r.job_id AND jobglass_attempts.lease = r.lease",
            (*[x for job_id, _ in done for x in (job_id, leases[job_id])], now))
    return done


def _with_children(db: sqlite3.Connection, ids: list[int]) -> list[int]:
    """The ids that are some job's parent: the rest need no dependency work."""
    found: list[int] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.extend(r[0] for r in db.execute(
            f"SELECT DISTINCT parent_id FROM jobglass_deps WHERE parent_id IN ({marks})", chunk))
    return sorted(found)


def _finish_one(db: sqlite3.Connection, report: Report, now: float) -> sqlite3.Row | None:
    """Apply one report (compare-and-set); the row's new state and worker, or None."""
    target = target_state(report)
    spent = 1 if spends_retry(report.outcome) else 0
    if target is JobState.SUCCEEDED:
        sql = ("UPDATE jobglass_jobs SET state = 'succeeded', finished_at = ?, result = ?,"
               " lease = NULL WHERE id = ? AND state = 'running' AND lease = ?")
        params: tuple[object, ...] = (now, dumps(report.result), report.job_id, report.lease)
    elif target is JobState.QUEUED:
        # A job someone asked to cancel is not put back in line: it ends cancelled.
        run_at = report.retry_at if report.retry_at is not None else now
        sql = ("UPDATE jobglass_jobs SET"
               " state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END,"
               " run_at = CASE WHEN cancel_requested THEN run_at ELSE ? END,"
               " finished_at = CASE WHEN cancel_requested THEN ? END,"
               " errors = errors + ?, error = COALESCE(?, error), lease = NULL"
               " WHERE id = ? AND state = 'running' AND lease = ?")
        params = (run_at, now, spent, report.error_message, report.job_id, report.lease)
    else:
        # A cancel report without a reason keeps the one `cancel()` recorded.
        reason = "COALESCE(?, reason)" if target is JobState.CANCELLED else "?"
        sql = ("UPDATE jobglass_jobs SET state = ?, finished_at = ?, errors = errors + ?,"
               f" error = COALESCE(?, error), reason = {reason}, lease = NULL"
               " WHERE id = ? AND state = 'running' AND lease = ?")
        params = (target.value, now, spent, report.error_message, report.reason,
                  report.job_id, report.lease)
    row: sqlite3.Row | None = db.execute(sql + " RETURNING state, worker_id", params).fetchone()
    if row is None:
        return None
    db.execute(
        "UPDATE jobglass_attempts SET ended_at = ?, outcome = ?, error_type = ?,"
        " error_message = ?, traceback = ? WHERE job_id = ? AND lease = ?",
        (now, report.outcome.value, report.error_type, report.error_message,
         report.traceback, report.job_id, report.lease),
    )
    return row
