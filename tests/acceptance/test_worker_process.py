"""What `jobglass worker` sets up for its own process."""

from __future__ import annotations

import accapp
from procs import WaitFor, Workers

from jobglass.cli.run import YOUNG_OBJECTS
from jobglass.model import JobState
from jobglass.store import Store


async def test_the_worker_process_tunes_the_cyclic_collector(workers: Workers, store: Store,
                                                             wait_for: WaitFor) -> None:
    job = (await store.enqueue_many([accapp.app.spec_for("acc.collector")]))[0]
    workers.start()

    async def done() -> bool:
        return (await store.get(job.id)).state is JobState.SUCCEEDED

    await wait_for(done, 30, message="the job to succeed")
    young, frozen = (await store.get(job.id)).result  # type: ignore[misc]
    assert young == YOUNG_OBJECTS
    assert frozen > 10_000  # the imports' objects, out of the collector's sight
