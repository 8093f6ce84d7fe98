"""Enqueue on SQLite: insert a batch, resolving unique keys and dependencies."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from jobglass.model import Job, JobSpec, JobState, UnknownParent
from jobglass.store.codec import dumps
from jobglass.store.records import new_job
from jobglass.store.sqlite import reads
from jobglass.store.sqlite.connection import transaction

_ACTIVE_SQL = "('blocked', 'queued', 'running')"


def store_jobs(db: sqlite3.Connection, specs: Sequence[JobSpec], now: float) -> list[Job]:
    """Store the jobs, all or none. One job without a unique key or parents is a single
    INSERT, which SQLite commits by itself: BEGIN IMMEDIATE and COMMIT around it were
    two more statements, ~7 of the ~50 µs a one-at-a-time enqueue costs. A single
    write statement cannot deadlock upgrading a read lock either."""
    if len(specs) == 1 and specs[0].unique_key is None and not specs[0].depends_on:
        job = _insert(db, specs[0], now)
        assert isinstance(job, Job)  # no unique key: never a holder's id
        return [job]
    with transaction(db):
        return enqueue(db, specs, now)


def enqueue(db: sqlite3.Connection, specs: Sequence[JobSpec], now: float) -> list[Job]:
    """Inside a write transaction. New jobs are built from their specs (no read-back); a
    unique key's holder is read."""
    made = [_insert(db, spec, now) for spec in specs]
    held = [m for m in made if isinstance(m, int)]
    rows = reads.jobs_by_ids(db, held) if held else {}
    return [rows[m] if isinstance(m, int) else m for m in made]


def _insert(db: sqlite3.Connection, spec: JobSpec, now: float) -> Job | int:
    """The new job as stored, or the id of the active job that holds the spec's unique
    key (read back by the caller)."""
    if spec.unique_key is not None:
        held = db.execute(
            f"SELECT id FROM jobglass_jobs WHERE unique_key = ? AND state IN {_ACTIVE_SQL}",
            (spec.unique_key,),
        ).fetchone()
        if held is not None:
            return int(held["id"])
    parents = sorted(set(spec.depends_on))
    state, pending, reason = JobState.QUEUED, 0, None
    if parents:
        marks = ",".join("?" * len(parents))
        found = {r["id"]: JobState(r["state"]) for r in db.execute(
            f"SELECT id, state FROM jobglass_jobs WHERE id IN ({marks})", parents)}
        missing = [p for p in parents if p not in found]
        if missing:
            raise UnknownParent(missing)
        dead = [p for p in parents if found[p] in (JobState.FAILED, JobState.CANCELLED)]
        pending = sum(1 for p in parents if found[p] is not JobState.SUCCEEDED)
        if dead:
            state, reason = JobState.CANCELLED, f"parent job {dead[0]} {found[dead[0]]}"
        elif pending:
            state = JobState.BLOCKED
    run_at = spec.run_at if spec.run_at is not None else now
    cursor = db.execute(
        "INSERT INTO jobglass_jobs (queue, task, kind, command, args, kwargs, state, priority,"
        " run_at, created_at, max_retries, backoff_base, backoff_cap, timeout, unique_key,"
        " pending_parents, reason, finished_at, traceparent, tracestate, request_id)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (spec.queue, spec.task, spec.kind.value, spec.command, dumps(spec.args),
         dumps(spec.kwargs), state.value, spec.priority,
         run_at, now, spec.max_retries,
         spec.backoff_base, spec.backoff_cap, spec.timeout, spec.unique_key, pending,
         reason, now if state is JobState.CANCELLED else None,
         spec.traceparent, spec.tracestate, spec.request_id),
    )
    job_id = int(cursor.lastrowid or 0)
    if parents:
        db.executemany("INSERT INTO jobglass_deps (parent_id, job_id) VALUES (?, ?)",
                       [(p, job_id) for p in parents])
    return new_job(job_id, spec, state, run_at, now, reason)
