"""The `Store` contract for `children`: the jobs that depend on a job, read through the
dependency table's primary key (parent_id, job_id). Every backend."""

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
