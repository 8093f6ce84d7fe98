"""Dependencies: release children when a parent succeeds, cancel descendants when
it fails or is cancelled. Called inside the parent's own transaction."""

from __future__ import annotations

import sqlite3

_CHILDREN = "SELECT job_id FROM jobglass_deps WHERE parent_id = ?"


def release_dependents(db: sqlite3.Connection, parent_id: int, now: float) -> list[int]:
    """One parent succeeded: blocked children with no other pending parent become queued."""
    db.execute(
        "UPDATE jobglass_jobs SET pending_parents = pending_parents - 1"
        f" WHERE state = 'blocked' AND id IN ({_CHILDREN})", (parent_id,))
    rows = db.execute(
        "UPDATE jobglass_jobs SET state = 'queued', run_at = MAX(run_at, ?)"
        f" WHERE state = 'blocked' AND pending_parents <= 0 AND id IN ({_CHILDREN})"
        " RETURNING id", (now, parent_id)).fetchall()
    return [r[0] for r in rows]


def cancel_dependents(db: sqlite3.Connection, parent_id: int, reason: str, now: float
                      ) -> list[int]:
    """A parent will never succeed: every blocked descendant is cancelled, with the reason."""
    rows = db.execute(
        "UPDATE jobglass_jobs SET state = 'cancelled', reason = ?, finished_at = ?"
        " WHERE state = 'blocked' AND id IN ("
        " WITH RECURSIVE below(id) AS ("
        "  SELECT job_id FROM jobglass_deps WHERE parent_id = ?"
        "  UNION SELECT d.job_id FROM jobglass_deps d JOIN below ON d.parent_id = below.id)"
        " SELECT id FROM below) RETURNING id",
        (reason, now, parent_id)).fetchall()
    return [r[0] for r in rows]
