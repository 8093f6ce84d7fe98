"""PostgreSQL rows (as dicts) to model records, and the column lists that feed them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from jobglass.model import Job, JobState
from jobglass.store import records

Row = dict[str, Any]


def job_columns(s: str, alias: str = "j") -> str:
    """Every job column plus its parents, so one round trip reads a whole `Job`."""
    return (f"{alias}.*, ARRAY(SELECT d.parent_id FROM {s}.jobglass_deps d"
            f" WHERE d.job_id = {alias}.id ORDER BY d.parent_id) AS parents")


def job_from_row(row: Row) -> Job:
    return records.job_from_row(row, row.get("parents") or ())


attempt_from_row = records.attempt_from_row
worker_from_row = records.worker_from_row


async def fetch(conn: AsyncConnection[Any], sql: str,
                params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
    """Run one statement on any connection (ours or a caller's) and return dict rows."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall() if cur.description is not None else []


def sql_states(states: Iterable[JobState]) -> str:
    """`('a', 'b')` for a `state IN` clause; values come from the enum, never a caller."""
    return "(" + ", ".join(f"'{s.value}'" for s in states) + ")"
