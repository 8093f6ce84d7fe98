"""The `Store` contract for `children` (the jobs that depend on a job, read through the
dependency table's primary key (parent_id, job_id)) and for `JobFilter.above_id` (a
bounded scan of `list_jobs`). Every backend."""

from __future__ import annotations

from jobglass.model import JobSpec
from jobglass.store import Store

T0 = 1_700_000_000.0


async def test_children_are_the_dependents_in_id_order(store: Store) -> None:
    [a, b] = await store.enqueue_many([JobSpec(task="a"), JobSpec(task="b")], now=T0)
    [c, d] = await store.enqueue_many([JobSpec(task="c", depends_on=[a.id, b.id]),
                                       JobSpec(task="d", depends_on=[a.id])], now=T0)
    [e] = await store.enqueue_many([JobSpec(task="e", depends_on=[c.id])], now=T0)

    assert await store.children(a.id) == [c.id, d.id]
    assert await store.children(b.id) == [c.id]
    assert await store.children(c.id) == [e.id]
    assert await store.children(e.id) == []
    assert (await store.get(c.id)).parents == [a.id, b.id]


async def test_children_of_a_missing_job_are_none(store: Store) -> None:
    assert await store.children(987_654) == []


async def test_list_jobs_above_an_id_bounds_the_scan(store: Store) -> None:
    from jobglass.store import JobFilter

    jobs = await store.enqueue_many([JobSpec(task=f"t{i % 2}") for i in range(10)], now=T0)
    ids = [j.id for j in jobs]
    page = await store.list_jobs(JobFilter(task="t0", above_id=ids[3]), limit=50)
    assert [j.id for j in page.jobs] == [i for i in reversed(ids[4:]) if (i - ids[0]) % 2 == 0]
    page = await store.list_jobs(JobFilter(above_id=ids[3]), limit=2, before_id=ids[8])
    assert [j.id for j in page.jobs] == [ids[7], ids[6]]
    assert page.next_cursor == ids[6]
