"""Per-minute figures on PostgreSQL: one upsert per row adds counts and merges the
wait histogram element-wise in SQL, so concurrent workers never lose an update."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from jobglass.model.stats import MinuteStats
from jobglass.store.postgres.rows import fetch

Conn = AsyncConnection[Any]


async def record(conn: Conn, s: str, rows: Sequence[MinuteStats]) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(
            f"INSERT INTO {s}.jobglass_stats AS t (minute, queue, succeeded, failed, retried,"
            " wait) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (minute, queue) DO UPDATE SET"
            " succeeded = t.succeeded + excluded.succeeded,"
            " failed = t.failed + excluded.failed, retried = t.retried + excluded.retried,"
            " wait = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0)"
            "  FROM unnest(t.wait, excluded.wait) WITH ORDINALITY AS u(a, b, i) ORDER BY i)",
            [(r.minute, r.queue, r.succeeded, r.failed, r.retried, list(r.wait)) for r in rows])


async def read(conn: Conn, s: str, since: float, queue: str | None) -> list[MinuteStats]:
    first = int(since // 60)
    if queue is None:
        found = await fetch(conn, f"SELECT * FROM {s}.jobglass_stats WHERE minute >= %s"
                                  " ORDER BY minute, queue", (first,))
    else:
        found = await fetch(conn, f"SELECT * FROM {s}.jobglass_stats WHERE minute >= %s"
                                  " AND queue = %s ORDER BY minute", (first, queue))
    return [MinuteStats(minute=int(r["minute"]), queue=r["queue"], succeeded=int(r["succeeded"]),
                        failed=int(r["failed"]), retried=int(r["retried"]),
                        wait=[int(x) for x in r["wait"]]) for r in found]

