"""Storing new jobs: a whole batch in a few statements, unique keys held by the
partial unique index (`INSERT ... ON CONFLICT DO NOTHING`, then the holder read).

The returned jobs are built from the specs and the values written, not read back:
the insert returns only the ids that went in. Columns travel as array literals
(`arrays`), the cheapest way psycopg can carry a thousand rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from psycopg import AsyncConnection

from jobglass.model import ACTIVE, Job, JobKind, JobSpec, JobState, UnknownParent
from jobglass.store.codec import dumps
from jobglass.store.postgres import arrays, reads
from jobglass.store.postgres.rows import fetch, sql_states
from jobglass.store.records import new_job

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
# Where `_job` and the wake-up find their values in a row of `_values`.
_QUEUE, _STATE, _RUN_AT, _CREATED_AT, _REASON = (
    [name for name, _ in _COLUMNS].index(name)
    for name in ("queue", "state", "run_at", "created_at", "reason"))

_ENCODE: dict[str, Callable[[Iterable[Any]], str]] = {
    "bigint": arrays.ints, "int": arrays.ints, "float8": arrays.floats, "text": arrays.texts}


def _insert_sql(s: str) -> str:
    names = ", ".join(name for name, _ in _COLUMNS)
    params = ", ".join(f"%s::{kind}[]" for _, kind in _COLUMNS)
    return (f"INSERT INTO {s}.jobglass_jobs ({names}) SELECT * FROM unnest({params})"
            " ON CONFLICT DO NOTHING RETURNING id")


def is_plain(specs: Sequence[JobSpec]) -> bool:
    """No unique keys and no parents: the batch needs no reads before it is written."""
    return all(spec.unique_key is None and not spec.depends_on for spec in specs)


# Columns a batch may leave out when every row holds the table's own default: the
# server then parses ~half the arrays (a plain batch of a thousand no-arg jobs
# stores ~30% faster). Kept equal to schema.sql by a test.
COLUMN_DEFAULTS: dict[str, Any] = {
    "kind": JobKind.PYTHON, "command": None, "args": "[]", "kwargs": "{}", "priority": 0,
    "timeout": None, "unique_key": None, "pending_parents": 0, "reason": None,
    "finished_at": None, "traceparent": None, "tracestate": None, "request_id": None}


@lru_cache(maxsize=256)
def _insert_and_notify_sql(s: str, names: tuple[str, ...]) -> str:
    """One statement per set of columns sent: few sets occur, so the server's prepared
    statements stay few."""
    kinds = dict(_COLUMNS)
    params = ", ".join(f"%s::{kinds[name]}[]" for name in names)
    return (f"WITH ins AS (INSERT INTO {s}.jobglass_jobs ({', '.join(names)})"
            f" SELECT * FROM unnest({params}) RETURNING id),"
            " woke AS (SELECT pg_notify(%s, q) FROM unnest(%s::text[]) q)"
            " SELECT id FROM ins CROSS JOIN (SELECT count(*) FROM woke) w ORDER BY id")


def plain_statement(s: str, channel: str, specs: Sequence[JobSpec], now: float
                    ) -> tuple[str, tuple[Any, ...], list[tuple[Any, ...]]]:
    """The one statement that stores a plain batch and announces it: (sql, params,
    the rows written, for `plain_jobs`). Columns at their default in every row are
    left to the table; the queues to wake are known here, not found by the server."""
    rows = [_values(0, spec, {}, now) for spec in specs]
    names: list[str] = []
    columns: list[str] = []
    for (name, kind), column in zip(_COLUMNS[1:], list(zip(*rows, strict=True))[1:],
                                    strict=True):
        if name in COLUMN_DEFAULTS and column.count(COLUMN_DEFAULTS[name]) == len(column):
            continue
        names.append(name)
        columns.append(_ENCODE[kind](column))
    woken = sorted({row[_QUEUE] for row in rows if row[_STATE] is JobState.QUEUED})
    return (_insert_and_notify_sql(s, tuple(names)),
            (*columns, channel, arrays.texts(woken)), rows)


def plain_jobs(ids: Sequence[int], rows: Sequence[tuple[Any, ...]],
               specs: Sequence[JobSpec]) -> list[Job]:
    # The ids come from the sequence in the order unnest produced the rows.
    return [_job(job_id, row, spec) for job_id, row, spec in zip(ids, rows, specs, strict=True)]


async def enqueue_plain(conn: Conn, s: str, channel: str, specs: Sequence[JobSpec],
                        now: float) -> list[Job]:
    """A batch without unique keys or parents as ONE statement, run outside a
    transaction block so it commits by itself: insert and NOTIFY in one round trip
    (BEGIN, nextval, INSERT, NOTIFY and COMMIT were five)."""
    sql, params, rows = plain_statement(s, channel, specs, now)
    cur = await conn.execute(sql, params)
    return plain_jobs([int(r[0]) for r in await cur.fetchall()], rows, specs)


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
    rows = [_values(job_id, specs[i], parents, now) for job_id, i in zip(ids, todo, strict=True)]
    columns = [_ENCODE[kind](column)
               for (_, kind), column in zip(_COLUMNS, zip(*rows, strict=True), strict=True)]
    cur = await conn.execute(_insert_sql(s), columns)
    went_in = {int(r[0]) for r in await cur.fetchall()}
    return {i: _job(row[0], row, specs[i]) for i, row in zip(todo, rows, strict=True)
            if row[0] in went_in}


def _job(job_id: int, row: tuple[Any, ...], spec: JobSpec) -> Job:
    """The job as stored: the values written (`_values` order) and the column defaults."""
    return new_job(job_id, spec, row[_STATE], row[_RUN_AT], row[_CREATED_AT], row[_REASON])


def _start_state(spec: JobSpec, parents: dict[int, JobState]
                 ) -> tuple[JobState, str | None, int]:
    """(state, reason, parents still pending) of a new job."""
    if not spec.depends_on:
        return JobState.QUEUED, None, 0
    own = sorted(set(spec.depends_on))
    dead = [p for p in own if parents[p] in _DEAD]
    pending = sum(1 for p in own if parents[p] is not JobState.SUCCEEDED)
    if dead:
        return JobState.CANCELLED, f"parent job {dead[0]} {parents[dead[0]]}", pending
    return (JobState.BLOCKED if pending else JobState.QUEUED), None, pending


def _values(job_id: int, spec: JobSpec, parents: dict[int, JobState], now: float
            ) -> tuple[Any, ...]:
    """The row of a new job, in `_COLUMNS` order. Kind and state stay enum members
    (they are str): `_job` reads the state back without a lookup."""
    state, reason, pending = _start_state(spec, parents)
    run_at = spec.run_at if spec.run_at is not None else now
    return (
        job_id, spec.queue, spec.task, spec.kind, spec.command, dumps(spec.args),
        dumps(spec.kwargs), state, spec.priority, float(run_at), float(now),
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
