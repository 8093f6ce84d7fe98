"""A dependency DAG runs in order in a real worker; a failed parent cancels the rest."""

from __future__ import annotations

import accapp
from procs import WaitFor, Workers

from jobglass.app import EnqueueOptions
from jobglass.model import JobState
from jobglass.store import Store


async def _state(store: Store, job_id: int) -> JobState:
    return (await store.get(job_id)).state


async def test_three_level_dag_runs_in_order(workers: Workers, store: Store,
                                            wait_for: WaitFor) -> None:
    app = accapp.app

    async def add(tag: str, *parents: int) -> int:
        spec = app.spec_for("acc.record", [tag], options=EnqueueOptions(depends_on=parents))
        return (await store.enqueue_many([spec]))[0].id

    a = await add("a")
    b1, b2 = await add("b1", a), await add("b2", a)
    c = await add("c", b1, b2)
    assert await _state(store, c) is JobState.BLOCKED
    workers.start("--concurrency", "4")

    async def c_done() -> bool:
        return await _state(store, c) is JobState.SUCCEEDED

    await wait_for(c_done, 30, message="the last job of the DAG")
    order = [line.split()[1] for line in workers.trace_lines()]
    assert order[0] == "a"
    assert order[-1] == "c"
    assert sorted(order[1:3]) == ["b1", "b2"]
    assert (await store.get(c)).parents == sorted([b1, b2])


async def test_failed_parent_cancels_every_descendant(workers: Workers, store: Store,
                                                     wait_for: WaitFor) -> None:
    app = accapp.app
    root = (await store.enqueue_many([app.spec_for("acc.fail")]))[0].id
    child = (await store.enqueue_many([app.spec_for(
        "acc.record", ["child"], options=EnqueueOptions(depends_on=(root,)))]))[0].id
    grandchild = (await store.enqueue_many([app.spec_for(
        "acc.record", ["grandchild"], options=EnqueueOptions(depends_on=(child,)))]))[0].id
    workers.start()

    async def cancelled() -> bool:
        return await _state(store, grandchild) is JobState.CANCELLED

    await wait_for(cancelled, 30, message="the descendants to be cancelled")
    assert await _state(store, root) is JobState.FAILED
    for job_id in (child, grandchild):
        job = await store.get(job_id)
        assert job.state is JobState.CANCELLED
        assert job.reason is not None
        assert str(root) in job.reason
    assert all("child" not in line for line in workers.trace_lines())
