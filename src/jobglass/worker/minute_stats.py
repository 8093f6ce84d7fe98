"""The worker's share of the per-minute figures: counted in memory as jobs end and
added to the store with each heartbeat (one upsert per queue per minute)."""

from __future__ import annotations

import time

from jobglass.model import Job
from jobglass.model.stats import MinuteStats


class MinuteCounter:
    def __init__(self) -> None:
        self._rows: dict[tuple[int, str], MinuteStats] = {}

    def _row(self, queue: str, when: float | None = None) -> MinuteStats:
        minute = int((time.time() if when is None else when) // 60)
        key = (minute, queue)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = MinuteStats(minute=minute, queue=queue)
        return row

    def claimed(self, job: Job) -> None:
        if job.started_at is not None:
            self._row(job.queue, job.started_at).add_wait(max(0.0, job.started_at - job.run_at))

    def ended(self, job: Job, *, succeeded: bool, retried: bool) -> None:
        row = self._row(job.queue)
        if succeeded:
            row.succeeded += 1
        else:
            row.failed += 1
            row.retried += int(retried)

    def take(self) -> list[MinuteStats]:
        rows, self._rows = list(self._rows.values()), {}
        return rows

    def put_back(self, rows: list[MinuteStats]) -> None:
        """A write failed: keep the counts for the next try."""
        for row in rows:
            key = (row.minute, row.queue)
            if key in self._rows:
                self._rows[key].merge(row)
            else:
                self._rows[key] = row
