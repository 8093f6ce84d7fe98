"""Per-minute figures, on every store: counts add up, histograms merge, reads are
bounded by time, prune drops old minutes."""

from __future__ import annotations

from jobglass.model.stats import MinuteStats
from jobglass.store import Store

T0 = 1_800_000_000.0  # a fixed minute boundary (divisible by 60)


def row(minute_offset: int, queue: str, succeeded: int = 0, failed: int = 0,
        waits: tuple[float, ...] = ()) -> MinuteStats:
    stats = MinuteStats(minute=int(T0 // 60) + minute_offset, queue=queue,
                        succeeded=succeeded, failed=failed)
    for w in waits:
        stats.add_wait(w)
    return stats


async def test_counts_add_and_histograms_merge(store: Store) -> None:
    await store.record_stats([row(0, "a", succeeded=3, waits=(0.001, 2.0))])
    await store.record_stats([row(0, "a", succeeded=2, failed=1, waits=(0.001,)),
                              row(0, "b", succeeded=1)])
    found = await store.read_stats(T0)
    assert [(r.queue, r.succeeded, r.failed) for r in found] == [("a", 5, 1), ("b", 1, 0)]
    expected = row(0, "a", waits=(0.001, 2.0, 0.001)).wait
    assert found[0].wait == expected


async def test_reads_start_at_the_minute_of_since_and_filter_by_queue(store: Store) -> None:
    await store.record_stats([row(-5, "a", 1), row(0, "a", 2), row(3, "a", 3), row(3, "b", 4)])
    assert [r.succeeded for r in await store.read_stats(T0 + 30, queue="a")] == [2, 3]
    assert [r.queue for r in await store.read_stats(T0 + 180)] == ["a", "b"]


async def test_prune_drops_old_minutes(store: Store) -> None:
    await store.record_stats([row(-120, "a", 1), row(0, "a", 2)])
    await store.prune(T0 - 60)
    assert [r.succeeded for r in await store.read_stats(T0 - 3 * 3600)] == [2]
