"""Dependencies: release children when parents succeed, cancel descendants when they
fail or are cancelled. Set-based (many parents per statement), called inside the
parents' own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from jobglass.store.postgres.rows import fetch

Conn = AsyncConnection[Any]


async def release_dependents(conn: Conn, s: str, parent_ids: Sequence[int], now: float
                             ) -> list[str]:
    """Parents succeeded: each blocked child loses one pending parent per succeeded
    parent and becomes queued when none is left. Returns the queues that got work."""
    if not parent_ids:
        return []
    rows = await fetch(
        conn,
        f"WITH done AS (SELECT job_id, COUNT(*) AS n FROM {s}.jobglass_deps"
        "   WHERE parent_id = ANY(%(ids)s) GROUP BY job_id)"
        f" UPDATE {s}.jobglass_jobs j SET pending_parents = j.pending_parents - done.n,"
        "  state = CASE WHEN j.pending_parents - done.n <= 0 THEN 'queued' ELSE 'blocked' END,"
        "  run_at = CASE WHEN j.pending_parents - done.n <= 0"
        "   THEN GREATEST(j.run_at, %(now)s) ELSE j.run_at END"
        " FROM done WHERE j.id = done.job_id AND j.state = 'blocked'"
        " RETURNING j.state, j.queue",
        {"ids": list(parent_ids), "now": float(now)})
    return sorted({r["queue"] for r in rows if r["state"] == "queued"})


async def cancel_dependents(conn: Conn, s: str, roots: Sequence[tuple[int, str]], now: float
                            ) -> list[int]:
    """Parents will never succeed: every blocked descendant is cancelled. `roots` are
    (parent id, reason) in order; a job below two roots gets the first one's reason."""
    if not roots:
        return []
    rows = await fetch(
        conn,
        "WITH RECURSIVE roots(root, ord, reason) AS ("
        "  SELECT * FROM unnest(%(ids)s::bigint[], %(ords)s::int[], %(reasons)s::text[])),"
        " below(id, ord, reason) AS ("
        f"  SELECT d.job_id, r.ord, r.reason FROM {s}.jobglass_deps d"
        "   JOIN roots r ON d.parent_id = r.root"
        f"  UNION SELECT d.job_id, b.ord, b.reason FROM {s}.jobglass_deps d"
        "   JOIN below b ON d.parent_id = b.id),"
        " pick AS (SELECT DISTINCT ON (id) id, reason FROM below ORDER BY id, ord)"
        f" UPDATE {s}.jobglass_jobs j SET state = 'cancelled', reason = pick.reason,"
        "  finished_at = %(now)s FROM pick WHERE j.id = pick.id AND j.state = 'blocked'"
        " RETURNING j.id",
        {"ids": [r[0] for r in roots], "ords": list(range(len(roots))),
         "reasons": [r[1] for r in roots], "now": float(now)})
    return [r["id"] for r in rows]
