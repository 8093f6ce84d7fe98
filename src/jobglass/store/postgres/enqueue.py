"""Storing new jobs: a whole batch in a few statements, unique keys held by the
partial unique index (`INSERT ... ON CONFLICT DO NOTHING`, then the holder read)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from jobglass.model import ACTIVE, Job, JobSpec, JobState, UnknownParent
from jobglass.store.codec import dumps
from jobglass.store.postgres import reads
from jobglass.store.postgres.rows import fetch, job_from_row, sql_states

Conn = AsyncConnection[Any]
_ACTIVE = sql_states(sorted(ACTIVE))
_DEAD = (JobState.FAILED, JobState.CANCELLED)
# A holder can finish between our conflict and our read of it; then we try again.
_ROUNDS = 10

_COLUMNS = (
    ("id", "bigint"), ("queue", "text"), ("task", "text"), ("kind", "text"),
    ("command", "text"), ("args", "text"), ("kwargs", "text"), ("state", "text"),
    ("priority", "int"), ("run_at", "float8"), ("created_at", "float8"),
    ("max_retries", "int"), ("backoff_base", "float8"), ("backoff_cap", "float8"),
    ("timeout", "float8"), ("unique_key", "text"), ("pending_parents", "int"),
    ("reason", "text"), ("finished_at", "float8"), ("traceparent", "text"),
    ("tracestate", "text"), ("request_id", "text"),
)


def _insert_sql(s: str) -> str:
    names = ", ".join(name for name, _ in _COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in _COLUMNS)
    return (f"INSERT INTO {s}.jobglass_jobs ({names}) SELECT * FROM unnest({arrays})"
            " ON CONFLICT DO NOTHING RETURNING *")


async def enqueue(conn: Conn, s: str, channel: str, specs: Sequence[JobSpec], now: float
                  ) -> list[Job]:
    """Run inside a transaction (ours or the caller's). Returns one job per spec."""
    found: dict[int, Job] = {}  # spec index -> job
    todo = list(range(len(specs)))
    held = await _holders(conn, s, [specs[i].unique_key for i in todo])
    todo = _take_held(specs, todo, held, found)
    parents = await _parent_states(conn, s, specs, todo)
    woken: set[str] = set()
    for _ in range(_ROUNDS):
        if not todo:
            break
        inserted = await _insert(conn, s, specs, todo, parents, now)
        for i, job in inserted.items():
            found[i] = job
            if job.state is JobState.QUEUED:
                woken.add(job.queue)
        await _insert_deps(conn, s, list(inserted.values()))
        lost = [i for i in todo if i not in inserted]
        held = await _holders(conn, s, [specs[i].unique_key for i in lost])
        todo = _take_held(specs, lost, held, found)
    if todo:
        raise RuntimeError("unique key holders kept vanishing; giving up")  # pragma: no cover
    if woken:
        await conn.execute("SELECT pg_notify(%s, q) FROM unnest(%s::text[]) q",
                           (channel, sorted(woken)))
    return [found[i] for i in range(len(specs))]


async def _holders(conn: Conn, s: str, keys: Sequence[str | None]) -> dict[str, Job]:
    wanted = sorted({k for k in keys if k is not None})
    if not wanted:
        return {}
    rows = await fetch(conn, f"SELECT id, unique_key FROM {s}.jobglass_jobs"
                             f" WHERE unique_key = ANY(%s) AND state IN {_ACTIVE}", (wanted,))
    jobs = await reads.jobs_by_ids(conn, s, [r["id"] for r in rows])
    return {r["unique_key"]: jobs[r["id"]] for r in rows if r["id"] in jobs}


def _take_held(specs: Sequence[JobSpec], todo: list[int], held: dict[str, Job],
               found: dict[int, Job]) -> list[int]:
    """Resolve specs whose key is held to the holder; return the rest."""
    rest = []
    for i in todo:
        key = specs[i].unique_key
        if key is not None and key in held:
            found[i] = held[key]
        else:
            rest.append(i)
    return rest


async def _parent_states(conn: Conn, s: str, specs: Sequence[JobSpec], todo: list[int]
                         ) -> dict[int, JobState]:
    wanted = sorted({p for i in todo for p in specs[i].depends_on})
    if not wanted:
        return {}
    # FOR SHARE: a parent finishing concurrently waits for our commit, so its
    # release/cancel sees the dependency rows we are about to write.
    rows = await fetch(conn, f"SELECT id, state FROM {s}.jobglass_jobs WHERE id = ANY(%s)"
                             " ORDER BY id FOR SHARE", (wanted,))
    states = {r["id"]: JobState(r["state"]) for r in rows}
    for i in todo:
        missing = sorted({p for p in specs[i].depends_on if p not in states})
        if missing:
            raise UnknownParent(missing)
    return states


async def _insert(conn: Conn, s: str, specs: Sequence[JobSpec], todo: list[int],
                  parents: dict[int, JobState], now: float) -> dict[int, Job]:
    cur = await conn.execute(f"SELECT nextval('{s}.jobglass_jobs_id_seq')"
                             " FROM generate_series(1, %s)", (len(todo),))
    ids = sorted(int(r[0]) for r in await cur.fetchall())
    columns: list[list[Any]] = [[] for _ in _COLUMNS]
    by_id: dict[int, int] = {}
    for job_id, i in zip(ids, todo, strict=True):
        by_id[job_id] = i
        for column, value in zip(columns, _values(job_id, specs[i], parents, now), strict=True):
            column.append(value)
    rows = await fetch(conn, _insert_sql(s), columns)
    out = {}
    for row in rows:
        i = by_id[row["id"]]
        row["parents"] = sorted(set(specs[i].depends_on))
        out[i] = job_from_row(row)
    return out


def _values(job_id: int, spec: JobSpec, parents: dict[int, JobState], now: float
            ) -> tuple[Any, ...]:
    own = sorted(set(spec.depends_on))
    state, reason = JobState.QUEUED, None
    dead = [p for p in own if parents[p] in _DEAD]
    pending = sum(1 for p in own if parents[p] is not JobState.SUCCEEDED)
    if dead:
        state, reason = JobState.CANCELLED, f"parent job {dead[0]} {parents[dead[0]]}"
    elif pending:
        state = JobState.BLOCKED
    run_at = spec.run_at if spec.run_at is not None else now
    return (
        job_id, spec.queue, spec.task, spec.kind.value, spec.command, dumps(spec.args),
        dumps(spec.kwargs), state.value, spec.priority, float(run_at), float(now),
        spec.max_retries, float(spec.backoff_base), float(spec.backoff_cap),
        None if spec.timeout is None else float(spec.timeout), spec.unique_key, pending,
        reason, float(now) if state is JobState.CANCELLED else None,
        spec.traceparent, spec.tracestate, spec.request_id,
    )


async def _insert_deps(conn: Conn, s: str, jobs: list[Job]) -> None:
    pairs = [(p, job.id) for job in jobs for p in job.parents]
    if pairs:
        await conn.execute(
            f"INSERT INTO {s}.jobglass_deps (parent_id, job_id)"
            " SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
            ([p for p, _ in pairs], [j for _, j in pairs]))
