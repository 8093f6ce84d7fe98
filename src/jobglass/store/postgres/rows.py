"""PostgreSQL rows (as dicts) to model records, and the column lists that feed them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from jobglass.model import Attempt, Job, JobKind, JobState, Outcome, WorkerInfo
from jobglass.store.codec import loads

Row = dict[str, Any]


def job_columns(s: str, alias: str = "j") -> str:
    """Every job column plus its parents, so one round trip reads a whole `Job`."""
    return (f"{alias}.*, ARRAY(SELECT d.parent_id FROM {s}.jobglass_deps d"
            f" WHERE d.job_id = {alias}.id ORDER BY d.parent_id) AS parents")


def job_from_row(row: Row) -> Job:
    return Job(
        id=row["id"],
        task=row["task"],
        queue=row["queue"],
        kind=JobKind(row["kind"]),
        state=JobState(row["state"]),
        args=loads(row["args"]),
        kwargs=loads(row["kwargs"]),
        priority=row["priority"],
        run_at=row["run_at"],
        created_at=row["created_at"],
        attempt=row["attempt"],
        errors=row["errors"],
        max_retries=row["max_retries"],
        backoff_base=row["backoff_base"],
        backoff_cap=row["backoff_cap"],
        timeout=row["timeout"],
        command=row["command"],
        unique_key=row["unique_key"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        lease=row["lease"],
        worker_id=row["worker_id"],
        result=loads(row["result"]),
        error=row["error"],
        reason=row["reason"],
        cancel_requested=bool(row["cancel_requested"]),
        progress_done=row["progress_done"],
        progress_total=row["progress_total"],
        progress_message=row["progress_message"],
        traceparent=row["traceparent"],
        tracestate=row["tracestate"],
        request_id=row["request_id"],
        parents=list(row.get("parents") or []),
    )


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
    )


async def fetch(conn: AsyncConnection[Any], sql: str,
                params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
    """Run one statement on any connection (ours or a caller's) and return dict rows."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall() if cur.description is not None else []


def sql_states(states: Iterable[JobState]) -> str:
    """`('a', 'b')` for a `state IN` clause; values come from the enum, never a caller."""
    return "(" + ", ".join(f"'{s.value}'" for s in states) + ")"
