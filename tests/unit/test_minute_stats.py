from __future__ import annotations

from jobglass.model.stats import WAIT_BOUNDS, MinuteStats, wait_percentile


def test_waits_land_in_their_bucket_and_percentiles_read_them_back() -> None:
    stats = MinuteStats(minute=0, queue="q")
    for seconds in [0.001] * 90 + [0.2] * 9 + [5000.0]:
        stats.add_wait(seconds)
    assert sum(stats.wait) == 100
    assert wait_percentile(stats.wait, 0.5) == WAIT_BOUNDS[0]
    assert wait_percentile(stats.wait, 0.95) == 0.25
    assert wait_percentile(stats.wait, 1.0) == WAIT_BOUNDS[-1]
    assert wait_percentile([0] * len(stats.wait), 0.5) is None


def test_merge_adds_everything() -> None:
    a, b = MinuteStats(0, "q", succeeded=1), MinuteStats(0, "q", failed=2, retried=1)
    a.add_wait(0.01)
    b.add_wait(0.01)
    a.merge(b)
    assert (a.succeeded, a.failed, a.retried, sum(a.wait)) == (1, 2, 1, 2)
