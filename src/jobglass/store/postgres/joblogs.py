"""Stored job logs on PostgreSQL: a batch of lines is one INSERT over unnest'ed
array literals (one round trip, whatever the batch size), read back by cursor on id.

PostgreSQL text and jsonb cannot hold NUL characters, which captured output may
contain; they are stored as U+FFFD so one odd byte cannot make a batch fail forever.
Pruning a job deletes its lines (`maintenance.prune`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from jobglass.model import LogLine
from jobglass.store.codec import dumps
from jobglass.store.postgres import arrays
from jobglass.store.postgres.rows import fetch

Conn = AsyncConnection[Any]
_NUL = "\x00"
_REPLACEMENT = "\ufffd"


def _text(value: str) -> str:
    return value.replace(_NUL, _REPLACEMENT) if _NUL in value else value


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _fields(fields: dict[str, Any] | None) -> str | None:
    if not fields:
        return None
    text = dumps(fields)
    # The encoder writes NUL as the escape \u0000, which jsonb refuses.
    return dumps(_clean(fields)) if "\\u0000" in text else text


async def append(conn: Conn, s: str, lines: Sequence[LogLine]) -> None:
    # WITH ORDINALITY + ORDER BY: ids are drawn in the order the lines were given.
    await conn.execute(
        f"INSERT INTO {s}.jobglass_job_logs (job_id, attempt, ts, level, stream, message,"
        " fields) SELECT job_id, attempt, ts, level, stream, message, fields::jsonb"
        " FROM unnest(%s::bigint[], %s::int[], %s::float8[], %s::text[], %s::text[],"
        " %s::text[], %s::text[]) WITH ORDINALITY"
        " AS l(job_id, attempt, ts, level, stream, message, fields, n) ORDER BY n",
        (arrays.ints([ln.job_id for ln in lines]), arrays.ints([ln.attempt for ln in lines]),
         arrays.floats([ln.ts for ln in lines]), arrays.texts([_text(ln.level) for ln in lines]),
         arrays.texts([_text(ln.stream) for ln in lines]),
         arrays.texts([_text(ln.message) for ln in lines]),
         arrays.texts([_fields(ln.fields) for ln in lines])))


async def read(conn: Conn, s: str, job_id: int, attempt: int | None, after_id: int,
               limit: int) -> list[LogLine]:
    bound = None if limit < 0 else limit  # LIMIT NULL: all, as SQLite reads LIMIT -1
    if attempt is None:
        rows = await fetch(
            conn, f"SELECT * FROM {s}.jobglass_job_logs WHERE job_id = %s AND id > %s"
                  " ORDER BY id LIMIT %s", (job_id, after_id, bound))
    else:
        rows = await fetch(
            conn, f"SELECT * FROM {s}.jobglass_job_logs WHERE job_id = %s AND attempt = %s"
                  " AND id > %s ORDER BY id LIMIT %s", (job_id, attempt, after_id, bound))
    return [LogLine(job_id=r["job_id"], attempt=r["attempt"], ts=r["ts"], level=r["level"],
                    stream=r["stream"], message=r["message"], fields=r["fields"], id=r["id"])
            for r in rows]
