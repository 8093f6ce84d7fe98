"""What the store tells the health verdict: one cheap sample, read on demand.

Every figure here comes from active jobs (through partial indexes) or from jobs
finished inside a short window (a range scan on `finished_at`), so sampling costs
the same at a thousand jobs of history or ten million.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jobglass.model.job import QueueStats


@dataclass(slots=True)
class Suspect:
    """A running job that is past its timeout, or whose worker is silent, dead or gone."""

    job_id: int
    queue: str
    task: str
    started_at: float | None
    timeout: float | None
    worker_id: str | None
    worker_state: str | None = None  # None: no worker row at all
    last_heartbeat: float | None = None
    host: str | None = None
    pid: int | None = None
    lease: float | None = None  # the worker's own lease, when it declared one


@dataclass(slots=True)
class Throughput:
    """Jobs of one queue that ended inside the last `window` seconds."""

    queue: str
    window: float
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed

    @property
    def per_minute(self) -> float:
        return self.finished * 60.0 / self.window if self.window > 0 else 0.0

    @property
    def failure_rate(self) -> float | None:
        """failed / (succeeded + failed); None when nothing finished."""
        return self.failed / self.finished if self.finished else None


@dataclass(slots=True)
class HealthSample:
    now: float
    window: float
    queues: list[QueueStats]
    throughput: list[Throughput]
    suspects: list[Suspect] = field(default_factory=list)
    last_finished_at: float | None = None  # newest succeeded/failed job


THROUGHPUT_SAMPLE = 20_000
"""The most ended jobs a throughput figure reads; past it the window shrinks."""


def sampled_throughput(rows: list[tuple[str, str, int, float]], window: float, now: float
                       ) -> list[Throughput]:
    """Per-queue counts from (queue, state, count, oldest finish) rows of the newest
    ended jobs. When the sample was full, the window is the span it covers."""
    if sum(row[2] for row in rows) >= THROUGHPUT_SAMPLE:
        window = max(now - min(row[3] for row in rows), 1e-3)
    found: dict[str, Throughput] = {}
    for queue, state, count, _ in rows:
        entry = found.setdefault(queue, Throughput(queue=queue, window=window))
        setattr(entry, state, count)
    return [found[name] for name in sorted(found)]
