"""Dependencies: release children when parents succeed, cancel descendants when they
fail or are cancelled. Set-based (many parents per statement), called inside the
parents' own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from jobglass.store.postgres.rows import fetch

Conn = AsyncConnection[Any]


def release_sql(s: str, parents: str) -> str:
    """The release as an UPDATE of the blocked children of the parent ids `parents`
    (a query) yields, returning (state, queue); `%(now)s` is a parameter. Also a
    CTE of `claims.finish`, so a batch of successes releases in its own statement."""
    return (
        f"UPDATE {s}.jobglass_jobs c SET pending_parents = c.pending_parents - d.n,"
        " state = CASE WHEN c.pending_parents - d.n <= 0 THEN 'queued' ELSE 'blocked' END,"
        " run_at = CASE WHEN c.pending_parents - d.n <= 0"
        "  THEN GREATEST(c.run_at, %(now)s) ELSE c.run_at END"
        f" FROM (SELECT job_id, COUNT(*) AS n FROM {s}.jobglass_deps"
        f"  WHERE parent_id IN ({parents}) GROUP BY job_id) d"
        # Children by primary key (an id array the planner cannot size as the whole
        # table), and a state check no partial index can serve: without statistics the
        # planner would otherwise scan every job for each batch of successes.
        f" WHERE c.id = ANY(ARRAY(SELECT job_id FROM {s}.jobglass_deps"
        f"  WHERE parent_id IN ({parents}))) AND c.id = d.job_id"
        " AND c.state IN (SELECT unnest(ARRAY['blocked'])) RETURNING c.state, c.queue")


async def release_dependents(conn: Conn, s: str, parent_ids: Sequence[int], now: float
                             ) -> list[str]:
    """Parents succeeded: each blocked child loses one pending parent per succeeded
    parent and becomes queued when none is left. Returns the queues that got work."""
    if not parent_ids:
        return []
    rows = await fetch(conn, release_sql(s, "SELECT unnest(%(ids)s::bigint[])"),
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
