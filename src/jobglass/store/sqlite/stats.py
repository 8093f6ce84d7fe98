"""Per-minute figures on SQLite: counts added by upsert, wait histograms merged."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from jobglass.model.stats import MinuteStats
from jobglass.store.codec import dumps, loads


def record(db: sqlite3.Connection, rows: Sequence[MinuteStats]) -> None:
    for row in rows:
        old = db.execute("SELECT wait FROM jobglass_stats WHERE minute = ? AND queue = ?",
                         (row.minute, row.queue)).fetchone()
        wait = row.wait if old is None else [a + b for a, b in zip(loads(old[0]), row.wait,
                                                                   strict=False)]
        db.execute(
            "INSERT INTO jobglass_stats (minute, queue, succeeded, failed, retried, wait)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (minute, queue) DO UPDATE SET"
            " succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,"
            " retried = retried + excluded.retried, wait = excluded.wait",
            (row.minute, row.queue, row.succeeded, row.failed, row.retried, dumps(wait)))


def read(db: sqlite3.Connection, since: float, queue: str | None) -> list[MinuteStats]:
    first = int(since // 60)
    if queue is None:
        rows = db.execute("SELECT * FROM jobglass_stats WHERE minute >= ? ORDER BY minute, queue",
                          (first,))
    else:
        rows = db.execute("SELECT * FROM jobglass_stats WHERE minute >= ? AND queue = ?"
                          " ORDER BY minute", (first, queue))
    return [MinuteStats(minute=r["minute"], queue=r["queue"], succeeded=r["succeeded"],
                        failed=r["failed"], retried=r["retried"], wait=loads(r["wait"]))
            for r in rows]


def prune(db: sqlite3.Connection, older_than: float) -> None:
    db.execute("DELETE FROM jobglass_stats WHERE minute < ?", (int(older_than // 60),))
