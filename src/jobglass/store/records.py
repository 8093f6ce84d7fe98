"""Database rows to model records, for every backend.

Both stores keep the same column names and store JSON as text, so one mapping
serves both; a row is anything indexable by column name (sqlite3.Row, a dict).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from jobglass.model import Attempt, Job, JobKind, JobSpec, JobState, Outcome, WorkerInfo
from jobglass.store.codec import loads

Row = Any

# Dict lookups, not Enum calls: a claim decodes a hundred rows at a time.
_KINDS = {k.value: k for k in JobKind}
_STATES = {s.value: s for s in JobState}


# The stored columns of a job, in `Job`'s field order (all fields but `parents`): a
# query selecting exactly these can build jobs by position (`job_from_values`).
JOB_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Job) if f.name != "parents")
_KIND, _STATE, _ARGS, _KWARGS, _RESULT, _CANCEL = (
    JOB_COLUMNS.index(name)
    for name in ("kind", "state", "args", "kwargs", "result", "cancel_requested"))


def job_from_values(values: Sequence[Any], parents: Sequence[int] = ()) -> Job:
    """A job from a row of `JOB_COLUMNS` values. Several times faster than reading a
    row by column names, which a claim of a hundred rows notices."""
    v = list(values)
    v[_KIND] = _KINDS[v[_KIND]]
    v[_STATE] = _STATES[v[_STATE]]
    v[_ARGS] = loads(v[_ARGS])
    v[_KWARGS] = loads(v[_KWARGS])
    v[_RESULT] = loads(v[_RESULT])
    v[_CANCEL] = bool(v[_CANCEL])
    v.append(list(parents))  # the last field
    return Job(*v)


def new_job(job_id: int, spec: JobSpec, state: JobState, run_at: float, now: float,
            reason: str | None) -> Job:
    """A job as its enqueue stored it, built from its spec: no read-back. Arguments by
    position, in `Job`'s field order: half the cost of keywords, at a thousand jobs a
    batch (a test holds it equal to the keyword form)."""
    return Job(job_id, spec.task, spec.queue, spec.kind, state, list(spec.args),
               dict(spec.kwargs), spec.priority, float(run_at), float(now), 0, 0,
               spec.max_retries, float(spec.backoff_base), float(spec.backoff_cap),
               None if spec.timeout is None else float(spec.timeout), spec.command,
               spec.unique_key, None, float(now) if state is JobState.CANCELLED else None,
               None, None, None, None, reason, False, None, None, None, spec.traceparent,
               spec.tracestate, spec.request_id,
               sorted(set(spec.depends_on)) if spec.depends_on else [])


def attempt_from_row(row: Row) -> Attempt:
    return Attempt(
        job_id=row["job_id"],
        number=row["number"],
        worker_id=row["worker_id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        error_type=row["error_type"],
        error_message=row["error_message"],
        traceback=row["traceback"],
        evidence=loads(row["evidence"]),
        trace_id=row["trace_id"],
        ready_at=row["ready_at"],
    )


def worker_from_row(row: Row) -> WorkerInfo:
    return WorkerInfo(
        id=row["id"],
        host=row["host"],
        pid=row["pid"],
        queues=loads(row["queues"]),
        started_at=row["started_at"],
        last_heartbeat=row["last_heartbeat"],
        state=row["state"],
        current_jobs=loads(row["current_jobs"]),
        jobs_done=row["jobs_done"],
        evidence=loads(row["evidence"]),
        lease=row["lease_s"],
    )
