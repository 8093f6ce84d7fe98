"""Per-minute, per-queue figures that workers add up as jobs end, so charts of the
last hour read sixty rows a queue, whatever the volume."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

# Upper bounds (seconds) of the queue-wait buckets; the last bucket is open-ended.
WAIT_BOUNDS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
                                  60, 300, 900, 3600)


@dataclass(slots=True)
class MinuteStats:
    minute: int  # Unix time // 60
    queue: str
    succeeded: int = 0
    failed: int = 0  # attempts that failed (retried or not), timed out
    retried: int = 0
    wait: list[int] = field(default_factory=lambda: [0] * (len(WAIT_BOUNDS) + 1))

    def add_wait(self, seconds: float) -> None:
        for index, bound in enumerate(WAIT_BOUNDS):
            if seconds <= bound:
                self.wait[index] += 1
                return
        self.wait[-1] += 1

    def merge(self, other: MinuteStats) -> None:
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.retried += other.retried
        self.wait = [a + b for a, b in zip(self.wait, other.wait, strict=True)]


def wait_percentile(buckets: Sequence[int], q: float) -> float | None:
    """The q-quantile (0..1) of a wait histogram, as the upper bound of the bucket that
    holds it (the open bucket reports its lower bound); None when empty."""
    total = sum(buckets)
    if total == 0:
        return None
    rank = math.ceil(q * total)
    seen = 0
    for index, count in enumerate(buckets):
        seen += count
        if seen >= rank and count:
            return WAIT_BOUNDS[index] if index < len(WAIT_BOUNDS) else WAIT_BOUNDS[-1]
    return WAIT_BOUNDS[-1]
