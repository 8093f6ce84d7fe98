"""Two worker processes on one SQLite file: every job runs exactly once."""

from __future__ import annotations

import signal
from collections import Counter

import accapp
from procs import WaitFor, Workers, wait_exit

from jobglass.model import JobState
from jobglass.store import JobFilter, Store

JOBS = 2000


async def test_two_processes_run_each_of_2000_jobs_once(workers: Workers, store: Store,
                                                       wait_for: WaitFor) -> None:
    specs = [accapp.app.spec_for("acc.record", [f"n{i}"]) for i in range(JOBS)]
    jobs = await store.enqueue_many(specs)
    supervisor = workers.start("--processes", "2", "--concurrency", "20")

    async def drained() -> bool:
        stats = await store.queue_stats()
        return all(sum(q.counts.values()) == 0 for q in stats)

    await wait_for(drained, 120, interval=0.1, message="all jobs to finish")
    supervisor.send_signal(signal.SIGTERM)
    assert await wait_exit(supervisor) == 0

    ran = Counter(int(line.split()[0]) for line in workers.trace_lines())
    assert set(ran) == {j.id for j in jobs}
    assert max(ran.values()) == 1, [k for k, v in ran.items() if v > 1][:10]

    seen: dict[int, JobState] = {}
    cursor = None
    while True:
        page = await store.list_jobs(JobFilter(), limit=500, before_id=cursor)
        seen.update((j.id, j.state) for j in page.jobs)
        assert all(j.attempt == 1 for j in page.jobs)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert set(seen.values()) == {JobState.SUCCEEDED}
    assert len(seen) == JOBS
    ids = {w.id for w in await store.workers()}
    assert len(ids) == 2  # both processes registered and worked from one file
