"""Stored job logs on SQLite: appended in batches, read by cursor."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from jobglass.model import LogLine
from jobglass.store.codec import dumps, loads


def append(db: sqlite3.Connection, lines: Sequence[LogLine]) -> None:
    db.executemany(
        "INSERT INTO jobglass_job_logs (job_id, attempt, ts, level, stream, message, fields)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(ln.job_id, ln.attempt, ln.ts, ln.level, ln.stream, ln.message,
          None if not ln.fields else dumps(ln.fields)) for ln in lines])


def read(db: sqlite3.Connection, job_id: int, attempt: int | None, after_id: int, limit: int
         ) -> list[LogLine]:
    if attempt is None:
        rows = db.execute(
            "SELECT * FROM jobglass_job_logs WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?",
            (job_id, after_id, limit))
    else:
        rows = db.execute(
            "SELECT * FROM jobglass_job_logs WHERE job_id = ? AND attempt = ? AND id > ?"
            " ORDER BY id LIMIT ?", (job_id, attempt, after_id, limit))
    return [LogLine(job_id=r["job_id"], attempt=r["attempt"], ts=r["ts"], level=r["level"],
                    stream=r["stream"], message=r["message"], fields=loads(r["fields"]),
                    id=r["id"]) for r in rows]


def delete_for(db: sqlite3.Connection, job_ids: Sequence[int]) -> None:
    marks = ",".join("?" * len(job_ids))
    db.execute(f"DELETE FROM jobglass_job_logs WHERE job_id IN ({marks})", list(job_ids))
