"""The `Store` contract: every verb, through the `store` fixture only.

Nothing here knows which backend it talks to; time is controlled with the verbs'
`now=` parameters, never by sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from jobglass.model import (
    IllegalTransition,
    Job,
    JobKind,
    JobNotFound,
    JobSpec,
    JobState,
    Outcome,
    StoreUnavailable,
    UniqueKeyConflict,
    UnknownParent,
    WorkerInfo,
)
from jobglass.store import JobFilter, Progress, Report, Store

OpenStore = Callable[[str], AbstractAsyncContextManager[Store]]

T0 = 1_700_000_000.0  # every test's "now"; later instants are T0 + seconds
LEASE = 30.0  # the reaper's lease in these tests

Q, R, C = JobState.QUEUED, JobState.RUNNING, JobState.CANCELLED


# -- helpers -------------------------------------------------------------------------


def spec(task: str = "t", **fields: Any) -> JobSpec:
    return JobSpec(task=task, **fields)


async def add(store: Store, *, now: float = T0, **fields: Any) -> Job:
    [job] = await store.enqueue_many([spec(**fields)], now=now)
    return job


async def register(store: Store, worker_id: str = "w1", *, now: float = T0,
                   host: str = "host-a", pid: int = 4242, lease: float | None = None
                   ) -> WorkerInfo:
    info = WorkerInfo(id=worker_id, host=host, pid=pid, queues=["default"], started_at=now,
                      last_heartbeat=now, state="running", lease=lease)
    await store.register_worker(info)
    return info


async def claim_one(store: Store, worker_id: str = "w1", *, now: float = T0,
                    queues: list[str] | None = None) -> Job:
    jobs = await store.claim(worker_id, queues or [], 1, now=now)
    assert len(jobs) == 1, jobs
    return jobs[0]


def report(job: Job, outcome: Outcome, **fields: Any) -> Report:
    assert job.lease is not None
    return Report(job_id=job.id, lease=job.lease, outcome=outcome, **fields)


async def finish(store: Store, job: Job, outcome: Outcome, *, now: float = T0,
                 **fields: Any) -> bool:
    [applied] = await store.finish_many([report(job, outcome, **fields)], now=now)
    return applied


async def succeed(store: Store, job: Job, *, now: float = T0) -> Job:
    claimed = await claim_one(store, now=now, queues=[job.queue])
    assert claimed.id == job.id
    assert await finish(store, claimed, Outcome.SUCCEEDED, now=now)
    return await store.get(job.id)


async def all_jobs(store: Store) -> list[Job]:
    return (await store.list_jobs(limit=10_000)).jobs


async def state_of(store: Store, job_id: int) -> JobState:
    return (await store.get(job_id)).state


# -- lifecycle -----------------------------------------------------------------------


async def test_ping_schema_version_and_migrate_again(store: Store) -> None:
    await store.ping()
    version = await store.schema_version()
    assert version >= 1
    assert await store.migrate() == []
    assert await store.schema_version() == version


async def test_ping_on_a_closed_store_raises_store_unavailable(
        store: Store, database_url: str, open_store: OpenStore) -> None:
    async with open_store(database_url) as other:
        await other.ping()
    with pytest.raises(StoreUnavailable):
        await other.ping()


async def test_try_lead(store: Store) -> None:
    assert await store.try_lead("w1")
    assert await store.try_lead("w1")  # still the leader on a second call


# -- enqueue ---------------------------------------------------------------------------


async def test_enqueue_defaults(store: Store) -> None:
    job = await add(store)
    assert job.id > 0
    assert job.task == "t"
    assert job.state is Q
    assert job.queue == "default"
    assert job.kind is JobKind.PYTHON
    assert (job.args, job.kwargs) == ([], {})
    assert job.priority == 0
    assert job.run_at == T0
    assert job.created_at == T0
    assert (job.attempt, job.errors) == (0, 0)
    assert (job.max_retries, job.backoff_base, job.backoff_cap) == (3, 1.0, 300.0)
    assert job.retries_left == 3
    assert job.lease is None
    assert job.worker_id is None
    assert job.started_at is None
    assert job.finished_at is None
    assert job.parents == []
    assert job.unique_key is None
    assert not job.cancel_requested
    assert await store.get(job.id) == job


async def test_enqueue_stores_every_field(store: Store) -> None:
    job = await add(store, task="mail.send", args=[1, "two", [3.5, None], {"k": "é"}],
                    kwargs={"to": "ünïcode@example.com", "n": {"deep": [True, False]}},
                    queue="mail", priority=7, run_at=T0 + 60, max_retries=9,
                    backoff_base=2.5, backoff_cap=99.0, timeout=12.5, unique_key="u1",
                    traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                    tracestate="vendor=1", request_id="req-1")
    got = await store.get(job.id)
    assert got == job
    assert got.args == [1, "two", [3.5, None], {"k": "é"}]
    assert got.kwargs == {"to": "ünïcode@example.com", "n": {"deep": [True, False]}}
    assert (got.queue, got.priority, got.run_at, got.created_at) == ("mail", 7, T0 + 60, T0)
    assert (got.max_retries, got.backoff_base, got.backoff_cap) == (9, 2.5, 99.0)
    assert got.timeout == 12.5
    assert got.unique_key == "u1"
    assert got.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert got.tracestate == "vendor=1"
    assert got.request_id == "req-1"


async def test_enqueue_many_keeps_order_and_empty_batch(store: Store) -> None:
    assert await store.enqueue_many([], now=T0) == []
    jobs = await store.enqueue_many([spec("a"), spec("b"), spec("c")], now=T0)
    assert [j.task for j in jobs] == ["a", "b", "c"]
    assert jobs[0].id < jobs[1].id < jobs[2].id



async def test_enqueue_many_stores_repeated_and_differing_values(store: Store) -> None:
    # A batch mostly repeats a value per column (PostgreSQL encodes such a column once);
    # mixed columns, quotes and backslashes must come back exactly as sent.
    odd = 'say "hi" \\ back'
    specs = [spec(odd, args=[i, odd], kwargs={"q": odd}, queue=odd, request_id=odd,
                  timeout=None if i % 2 else 2.5, priority=i // 2) for i in range(4)]
    specs.append(spec("other", run_at=T0 + 5, backoff_cap=1.0))
    jobs = await store.enqueue_many(specs, now=T0)
    assert [await store.get(job.id) for job in jobs] == jobs
    assert [j.args for j in jobs[:4]] == [[i, odd] for i in range(4)]
    assert {(j.task, j.queue, j.request_id) for j in jobs[:4]} == {(odd, odd, odd)}
    assert [j.timeout for j in jobs] == [2.5, None, 2.5, None, None]
    assert [j.run_at for j in jobs] == [T0] * 4 + [T0 + 5]

async def test_enqueue_shell_job(store: Store) -> None:
    job = await add(store, kind=JobKind.SHELL, command="echo hi")
    got = await store.get(job.id)
    assert got.kind is JobKind.SHELL
    assert got.command == "echo hi"


async def test_unique_key_returns_the_active_holder(store: Store) -> None:
    first = await add(store, unique_key="k", args=[1])
    again = await add(store, unique_key="k", args=[2], now=T0 + 1)
    assert again.id == first.id
    assert again.args == [1]
    # Within one batch too, and other keys are unaffected.
    batch = await store.enqueue_many([spec(unique_key="k2"), spec(unique_key="k2"),
                                      spec(unique_key="k")], now=T0)
    assert batch[0].id == batch[1].id != first.id
    assert batch[2].id == first.id
    assert len(await all_jobs(store)) == 2


async def test_unique_key_held_by_running_and_blocked_jobs(store: Store) -> None:
    held = await add(store, unique_key="run")
    await claim_one(store)
    assert (await add(store, unique_key="run")).id == held.id
    parent = await add(store)
    blocked = await add(store, unique_key="blk", depends_on=[parent.id])
    assert blocked.state is JobState.BLOCKED
    assert (await add(store, unique_key="blk")).id == blocked.id


@pytest.mark.parametrize("outcome", [Outcome.SUCCEEDED, Outcome.FAILED, Outcome.CANCELLED])
async def test_unique_key_is_free_once_the_holder_is_terminal(store: Store,
                                                              outcome: Outcome) -> None:
    holder = await add(store, unique_key="k", max_retries=0)
    running = await claim_one(store)
    assert await finish(store, running, outcome)
    assert (await store.get(holder.id)).state in (JobState.SUCCEEDED, JobState.FAILED, C)
    fresh = await add(store, unique_key="k", now=T0 + 1)
    assert fresh.id != holder.id
    assert fresh.state is Q


async def test_depends_on_blocks_until_parents_succeed(store: Store) -> None:
    parent = await add(store)
    child = await add(store, depends_on=[parent.id, parent.id])  # duplicates collapse
    assert child.state is JobState.BLOCKED
    assert child.parents == [parent.id]
    assert await store.get(child.id) == child


async def test_depends_on_a_succeeded_parent_is_queued(store: Store) -> None:
    parent = await succeed(store, await add(store))
    child = await add(store, depends_on=[parent.id], now=T0 + 1)
    assert child.state is Q
    assert child.parents == [parent.id]
    assert await store.get(child.id) == child


async def test_depends_on_a_job_of_the_same_batch(store: Store) -> None:
    parent = await add(store)
    jobs = await store.enqueue_many([spec("a", depends_on=[parent.id])], now=T0)
    grand = await store.enqueue_many([spec("b", depends_on=[jobs[0].id])], now=T0)
    assert grand[0].state is JobState.BLOCKED


async def test_unknown_parent_stores_nothing(store: Store) -> None:
    existing = await add(store)
    with pytest.raises(UnknownParent) as caught:
        await store.enqueue_many([spec("ok"), spec("bad", depends_on=[existing.id, 999_999]),
                                  spec("after")], now=T0)
    assert caught.value.parent_ids == [999_999]
    assert [j.id for j in await all_jobs(store)] == [existing.id]


@pytest.mark.parametrize("outcome", [Outcome.FAILED, Outcome.CANCELLED])
async def test_parent_already_dead_cancels_the_child(store: Store, outcome: Outcome) -> None:
    parent = await add(store, max_retries=0)
    assert await finish(store, await claim_one(store), outcome)
    dead = await store.get(parent.id)
    assert dead.state in (JobState.FAILED, C)
    child = await add(store, depends_on=[parent.id], now=T0 + 5)
    assert child.state is C
    assert child.reason is not None
    assert str(parent.id) in child.reason
    assert child.finished_at == T0 + 5
    assert await store.get(child.id) == child  # what enqueue returns is what it stored
    assert await store.claim("w1", [], 10, now=T0 + 10) == []


# -- claim -----------------------------------------------------------------------------


async def test_claim_sets_running_lease_and_attempt(store: Store) -> None:
    await register(store)
    job = await add(store)
    claimed = await claim_one(store, now=T0 + 2)
    assert claimed.id == job.id
    assert claimed.state is R
    assert claimed.attempt == 1
    assert claimed.lease
    assert claimed.worker_id == "w1"
    assert claimed.started_at == T0 + 2
    got = await store.get(job.id)
    assert (got.state, got.lease, got.worker_id, got.attempt) == (R, claimed.lease, "w1", 1)
    [attempt] = await store.attempts(job.id)
    assert (attempt.job_id, attempt.number, attempt.worker_id) == (job.id, 1, "w1")
    assert attempt.started_at == T0 + 2
    assert attempt.ended_at is None
    assert attempt.outcome is None


async def test_claimed_job_is_the_stored_job(store: Store) -> None:
    parent = await add(store)
    child = await add(store, depends_on=[parent.id], args=[1], kwargs={"k": "v"})
    await succeed(store, parent, now=T0 + 1)
    claimed = await claim_one(store, now=T0 + 2)
    assert claimed.id == child.id
    assert claimed.parents == [parent.id]
    assert claimed == await store.get(child.id)


async def test_claim_orders_by_priority_then_run_at(store: Store) -> None:
    jobs = await store.enqueue_many([
        spec("low-old", priority=0, run_at=T0 - 50),
        spec("high-new", priority=5, run_at=T0 - 1),
        spec("high-old", priority=5, run_at=T0 - 10),
        spec("mid", priority=2, run_at=T0 - 5),
        spec("low-new", priority=0, run_at=T0 - 2),
        spec("negative", priority=-3, run_at=T0 - 100),
    ], now=T0 - 200)
    claimed = await store.claim("w1", [], 10, now=T0)
    assert [j.task for j in claimed] == ["high-old", "high-new", "mid", "low-old", "low-new",
                                         "negative"]
    assert {j.id for j in claimed} == {j.id for j in jobs}
    assert len({j.lease for j in claimed}) >= 1


async def test_claim_in_batches_preserves_the_order(store: Store) -> None:
    await store.enqueue_many([spec(str(i), priority=i % 3, run_at=T0 - i) for i in range(9)],
                             now=T0 - 100)
    order: list[str] = []
    for _ in range(5):
        order += [j.task for j in await store.claim("w1", [], 2, now=T0)]
    expected = sorted((str(i) for i in range(9)), key=lambda t: (-(int(t) % 3), -int(t)))
    assert order == expected


async def test_claim_limit(store: Store) -> None:
    await store.enqueue_many([spec() for _ in range(5)], now=T0)
    assert await store.claim("w1", [], 0, now=T0) == []
    assert len(await store.claim("w1", [], 2, now=T0)) == 2
    assert len(await store.claim("w2", [], 10, now=T0)) == 3
    assert await store.claim("w3", [], 10, now=T0) == []


async def test_claimed_jobs_do_not_share_ids_between_batches(store: Store) -> None:
    await store.enqueue_many([spec() for _ in range(6)], now=T0)
    a = await store.claim("w1", [], 3, now=T0)
    b = await store.claim("w2", [], 3, now=T0)
    assert not {j.id for j in a} & {j.id for j in b}
    assert {j.lease for j in a}.isdisjoint({j.lease for j in b})


async def test_claim_filters_by_queue(store: Store) -> None:
    await store.enqueue_many([spec(queue="a"), spec(queue="b"), spec(queue="c")], now=T0)
    got = await store.claim("w1", ["a", "b"], 10, now=T0)
    assert sorted(j.queue for j in got) == ["a", "b"]
    assert await store.claim("w1", ["a", "zzz"], 10, now=T0) == []
    rest = await store.claim("w1", [], 10, now=T0)  # empty list: every queue
    assert [j.queue for j in rest] == ["c"]


async def test_delayed_jobs_are_not_claimed_early(store: Store) -> None:
    job = await add(store, run_at=T0 + 60)
    assert await store.claim("w1", [], 10, now=T0) == []
    assert await store.claim("w1", [], 10, now=T0 + 59.9) == []
    assert (await claim_one(store, now=T0 + 60)).id == job.id


async def test_paused_queue_is_not_claimed(store: Store) -> None:
    job = await add(store, queue="slow")
    other = await add(store, queue="fast")
    await store.set_paused("slow", True)
    assert [j.id for j in await store.claim("w1", [], 10, now=T0)] == [other.id]
    assert await store.claim("w1", ["slow"], 10, now=T0) == []
    await store.set_paused("slow", True)  # idempotent
    await store.set_paused("slow", False)
    assert (await claim_one(store, queues=["slow"])).id == job.id


async def test_shell_jobs_need_allow_shell(store: Store) -> None:
    shell = await add(store, kind=JobKind.SHELL, command="true", priority=9)
    py = await add(store)
    assert [j.id for j in await store.claim("w1", [], 10, now=T0)] == [py.id]
    assert await store.claim("w1", [], 10, now=T0) == []
    got = await store.claim("w1", [], 10, allow_shell=True, now=T0)
    assert [j.id for j in got] == [shell.id]


async def test_blocked_and_cancelled_jobs_are_not_claimed(store: Store) -> None:
    parent = await add(store)
    await add(store, depends_on=[parent.id])
    gone = await add(store)
    await store.cancel(gone.id, now=T0)
    assert [j.id for j in await store.claim("w1", [], 10, now=T0)] == [parent.id]
    assert await store.claim("w1", [], 10, now=T0) == []


# -- heartbeat -----------------------------------------------------------------------


async def test_heartbeat_stores_progress_and_liveness(store: Store) -> None:
    await register(store)
    await add(store)
    job = await claim_one(store, now=T0)
    assert job.lease is not None
    reply = await store.heartbeat(
        "w1", [Progress(job.id, job.lease, done=3, total=10, message="a third")], now=T0 + 5)
    assert reply.cancel == []
    assert reply.lost == []
    got = await store.get(job.id)
    assert (got.progress_done, got.progress_total, got.progress_message) == (3, 10, "a third")
    [worker] = await store.workers()
    assert worker.last_heartbeat == T0 + 5
    assert worker.current_jobs == [job.id]
    assert worker.state == "running"


async def test_heartbeat_with_a_stale_lease_stores_nothing_and_says_lost(store: Store) -> None:
    await register(store)
    await add(store)
    job = await claim_one(store)
    reply = await store.heartbeat("w1", [Progress(job.id, "not-the-lease", 1, 2, "x")],
                                  now=T0 + 1)
    assert reply.lost == [job.id]
    assert reply.cancel == []
    got = await store.get(job.id)
    assert (got.progress_done, got.progress_message) == (None, None)


async def test_heartbeat_reports_cancel_requests(store: Store) -> None:
    await register(store)
    await store.enqueue_many([spec(), spec()], now=T0)
    a, b = await store.claim("w1", [], 2, now=T0)
    await store.cancel(b.id, "stop it", now=T0 + 1)
    assert a.lease
    assert b.lease
    reply = await store.heartbeat("w1", [Progress(a.id, a.lease, None, None, None),
                                         Progress(b.id, b.lease, None, None, None)], now=T0 + 2)
    assert reply.cancel == [b.id]
    assert reply.lost == []


async def test_heartbeat_reports_jobs_the_worker_no_longer_holds(store: Store) -> None:
    await register(store)
    await add(store)
    job = await claim_one(store)
    assert job.lease
    await store.reap(LEASE, now=T0 + LEASE + 1)
    reply = await store.heartbeat("w1", [Progress(job.id, job.lease, 1, 2, "late")],
                                  now=T0 + LEASE + 2)
    assert reply.lost == [job.id]
    assert (await store.get(job.id)).progress_message is None


# -- finish_many ---------------------------------------------------------------------


async def test_finish_succeeded_stores_the_result(store: Store) -> None:
    await register(store)
    job = await add(store)
    running = await claim_one(store, now=T0 + 1)
    assert await finish(store, running, Outcome.SUCCEEDED, now=T0 + 3,
                        result={"answer": 42, "list": [1, "x"]})
    got = await store.get(job.id)
    assert got.state is JobState.SUCCEEDED
    assert got.result == {"answer": 42, "list": [1, "x"]}
    assert got.finished_at == T0 + 3
    assert got.lease is None
    assert got.errors == 0
    [attempt] = await store.attempts(job.id)
    assert attempt.outcome is Outcome.SUCCEEDED
    assert attempt.ended_at == T0 + 3
    [worker] = await store.workers()
    assert worker.jobs_done == 1


async def test_finish_failed_with_retry_at_requeues_later(store: Store) -> None:
    job = await add(store)
    running = await claim_one(store, now=T0)
    assert await finish(store, running, Outcome.FAILED, now=T0 + 1, retry_at=T0 + 30,
                        error_type="ValueError", error_message="bad value",
                        traceback="Traceback (most recent call last):\n  ...")
    got = await store.get(job.id)
    assert got.state is Q
    assert got.run_at == T0 + 30
    assert got.errors == 1
    assert got.retries_left == 2
    assert got.error == "bad value"
    assert got.lease is None
    assert got.finished_at is None
    [attempt] = await store.attempts(job.id)
    assert attempt.outcome is Outcome.FAILED
    assert (attempt.error_type, attempt.error_message) == ("ValueError", "bad value")
    assert attempt.traceback is not None
    assert attempt.traceback.startswith("Traceback")
    assert attempt.ended_at == T0 + 1
    # Not claimable before retry_at; the next claim is attempt 2.
    assert await store.claim("w1", [], 10, now=T0 + 29) == []
    again = await claim_one(store, now=T0 + 30)
    assert again.attempt == 2
    assert again.lease != running.lease
    assert [a.number for a in await store.attempts(job.id)] == [1, 2]


async def test_each_attempt_records_when_its_job_became_ready(store: Store) -> None:
    """Queue wait per attempt is started - ready_at: a delay or a retry's backoff
    before the job was ready is not counted as time spent waiting in the queue."""
    job = await add(store, run_at=T0 + 10)  # enqueued at T0 with a 10 s delay
    first = await claim_one(store, now=T0 + 12)
    assert await finish(store, first, Outcome.FAILED, now=T0 + 13, retry_at=T0 + 40,
                        error_message="flaky")
    await claim_one(store, now=T0 + 45)
    one, two = await store.attempts(job.id)
    assert (one.ready_at, one.queue_wait) == (T0 + 10, 2.0)
    assert (two.ready_at, two.queue_wait) == (T0 + 40, 5.0)


async def test_finish_failed_without_retry_fails(store: Store) -> None:
    job = await add(store)
    running = await claim_one(store)
    assert await finish(store, running, Outcome.FAILED, now=T0 + 2, error_type="KeyError",
                        error_message="'x'")
    got = await store.get(job.id)
    assert got.state is JobState.FAILED
    assert got.errors == 1
    assert got.error == "'x'"
    assert got.finished_at == T0 + 2
    assert (await store.attempts(job.id))[0].outcome is Outcome.FAILED


async def test_finish_timeout(store: Store) -> None:
    job = await add(store)
    running = await claim_one(store)
    assert await finish(store, running, Outcome.TIMEOUT, error_type="TimeoutError",
                        error_message="ran past 5s")
    got = await store.get(job.id)
    assert got.state is JobState.FAILED
    assert got.errors == 1
    [attempt] = await store.attempts(job.id)
    assert attempt.outcome is Outcome.TIMEOUT
    assert attempt.error_message == "ran past 5s"


async def test_finish_timeout_with_retry(store: Store) -> None:
    job = await add(store)
    running = await claim_one(store)
    assert await finish(store, running, Outcome.TIMEOUT, retry_at=T0 + 5)
    got = await store.get(job.id)
    assert (got.state, got.errors, got.run_at) == (Q, 1, T0 + 5)


async def test_finish_cancelled(store: Store) -> None:
    job = await add(store)
    running = await claim_one(store)
    assert await finish(store, running, Outcome.CANCELLED, now=T0 + 1, reason="user said so")
    got = await store.get(job.id)
    assert got.state is C
    assert got.reason == "user said so"
    assert got.finished_at == T0 + 1
    assert got.errors == 0
    assert (await store.attempts(job.id))[0].outcome is Outcome.CANCELLED


async def test_finish_interrupted_requeues_without_spending_a_retry(store: Store) -> None:
    job = await add(store, run_at=T0 - 10)
    running = await claim_one(store)
    assert await finish(store, running, Outcome.INTERRUPTED, now=T0 + 4)
    got = await store.get(job.id)
    assert got.state is Q
    assert got.errors == 0
    assert got.run_at == T0 + 4
    assert got.lease is None
    [attempt] = await store.attempts(job.id)
    assert attempt.outcome is Outcome.INTERRUPTED
    assert (await claim_one(store, now=T0 + 4)).attempt == 2


async def test_finish_many_applies_a_mixed_batch(store: Store) -> None:
    await store.enqueue_many([spec("a"), spec("b"), spec("c")], now=T0)
    a, b, c = await store.claim("w1", [], 3, now=T0)
    applied = await store.finish_many([
        report(a, Outcome.SUCCEEDED, result=1),
        Report(job_id=b.id, lease="stale", outcome=Outcome.SUCCEEDED),
        report(c, Outcome.FAILED, error_message="boom"),
    ], now=T0 + 1)
    assert applied == [True, False, True]
    assert [await state_of(store, j.id) for j in (a, b, c)] == [
        JobState.SUCCEEDED, R, JobState.FAILED]
    assert await store.finish_many([], now=T0) == []


# -- compare-and-set -----------------------------------------------------------------


async def test_report_with_a_stale_lease_changes_nothing(store: Store) -> None:
    job = await add(store)
    running = await claim_one(store)
    before = await store.get(job.id)
    attempts_before = await store.attempts(job.id)
    for outcome in Outcome:
        stale = Report(job_id=job.id, lease="0000", outcome=outcome, error_message="x",
                       retry_at=T0 + 1 if outcome is Outcome.FAILED else None)
        assert await store.finish_many([stale], now=T0 + 1) == [False]
    assert await store.get(job.id) == before
    assert await store.attempts(job.id) == attempts_before
    assert await finish(store, running, Outcome.SUCCEEDED)


async def test_report_for_an_unknown_job_is_not_applied(store: Store) -> None:
    assert await store.finish_many(
        [Report(job_id=424242, lease="x", outcome=Outcome.SUCCEEDED)], now=T0) == [False]


async def test_duplicate_report_is_rejected(store: Store) -> None:
    job = await add(store)
    running = await claim_one(store)
    assert await finish(store, running, Outcome.SUCCEEDED, result="first", now=T0 + 1)
    assert not await finish(store, running, Outcome.SUCCEEDED, result="second", now=T0 + 2)
    assert not await finish(store, running, Outcome.FAILED, now=T0 + 2)
    got = await store.get(job.id)
    assert (got.state, got.result, got.finished_at) == (JobState.SUCCEEDED, "first", T0 + 1)
    [attempt] = await store.attempts(job.id)
    assert attempt.ended_at == T0 + 1


async def test_duplicate_report_in_one_batch(store: Store) -> None:
    await add(store)
    running = await claim_one(store)
    applied = await store.finish_many([report(running, Outcome.SUCCEEDED, result=1),
                                       report(running, Outcome.FAILED)], now=T0)
    assert applied == [True, False]
    assert (await store.get(running.id)).state is JobState.SUCCEEDED


async def test_report_of_an_earlier_attempt_is_rejected(store: Store) -> None:
    job = await add(store)
    first = await claim_one(store)
    assert await finish(store, first, Outcome.FAILED, retry_at=T0 + 1)
    second = await claim_one(store, now=T0 + 1)
    assert not await finish(store, first, Outcome.SUCCEEDED, now=T0 + 2)
    got = await store.get(job.id)
    assert (got.state, got.lease) == (R, second.lease)
    assert (await store.attempts(job.id))[1].outcome is None


async def test_report_after_a_reap_is_rejected(store: Store) -> None:
    await register(store)
    job = await add(store)
    running = await claim_one(store)
    [reaped] = await store.reap(LEASE, now=T0 + 100)
    after_reap = await store.get(job.id)
    assert not await finish(store, running, Outcome.SUCCEEDED, result="late", now=T0 + 101)
    assert await store.get(job.id) == after_reap
    assert after_reap.state is Q
    assert after_reap.result is None
    assert (await store.attempts(job.id))[0].outcome is Outcome.LOST
    assert reaped.job == after_reap


async def test_cancel_then_cancelled_report_then_late_report(store: Store) -> None:
    job = await add(store)
    running = await claim_one(store)
    asked = await store.cancel(job.id, "no longer needed", now=T0 + 1)
    assert asked.state is R
    assert asked.cancel_requested
    assert await finish(store, running, Outcome.CANCELLED, now=T0 + 2)
    got = await store.get(job.id)
    assert got.state is C
    assert got.reason == "no longer needed"  # the worker's report gave no reason of its own
    assert not await finish(store, running, Outcome.SUCCEEDED, now=T0 + 3)
    assert not await finish(store, running, Outcome.CANCELLED, now=T0 + 3)
    assert (await store.get(job.id)).state is C


async def test_cancel_requested_job_is_not_requeued_by_a_retry_report(store: Store) -> None:
    """A job whose cancel was asked must not come back to run again."""
    job = await add(store)
    running = await claim_one(store)
    await store.cancel(job.id, "stop", now=T0 + 1)
    assert await finish(store, running, Outcome.FAILED, retry_at=T0 + 2, now=T0 + 2)
    got = await store.get(job.id)
    assert got.state is C
    assert got.reason == "stop"
    assert await store.claim("w1", [], 10, now=T0 + 100) == []


async def test_cancel_requested_job_is_not_requeued_by_an_interrupt(store: Store) -> None:
    job = await add(store)
    running = await claim_one(store)
    await store.cancel(job.id, "stop", now=T0 + 1)
    assert await finish(store, running, Outcome.INTERRUPTED, now=T0 + 2)
    assert (await store.get(job.id)).state is C
    assert (await store.attempts(job.id))[0].outcome is Outcome.INTERRUPTED


# -- dependencies ---------------------------------------------------------------------


async def test_three_level_chain_releases_in_order(store: Store) -> None:
    a = await add(store, task="a")
    b = await add(store, task="b", depends_on=[a.id])
    c = await add(store, task="c", depends_on=[b.id])
    assert (b.state, c.state) == (JobState.BLOCKED, JobState.BLOCKED)
    assert c.parents == [b.id]

    await succeed(store, a, now=T0 + 1)
    assert await state_of(store, b.id) is Q
    assert await state_of(store, c.id) is JobState.BLOCKED
    released = await store.get(b.id)
    assert released.run_at == T0 + 1  # ready from the moment its parent finished

    await succeed(store, b, now=T0 + 2)
    assert await state_of(store, c.id) is Q
    assert (await succeed(store, c, now=T0 + 3)).state is JobState.SUCCEEDED


async def test_release_keeps_a_later_run_at(store: Store) -> None:
    a = await add(store)
    b = await add(store, depends_on=[a.id], run_at=T0 + 500)
    await succeed(store, a, now=T0 + 1)
    got = await store.get(b.id)
    assert (got.state, got.run_at) == (Q, T0 + 500)


async def test_child_waits_for_every_parent(store: Store) -> None:
    p1 = await add(store)
    p2 = await add(store)
    child = await add(store, depends_on=[p2.id, p1.id])
    assert child.parents == [p1.id, p2.id]
    await succeed(store, p1, now=T0 + 1)
    assert await state_of(store, child.id) is JobState.BLOCKED
    await succeed(store, p2, now=T0 + 2)
    assert await state_of(store, child.id) is Q


async def test_a_retried_parent_keeps_the_child_blocked(store: Store) -> None:
    parent = await add(store)
    child = await add(store, depends_on=[parent.id])
    running = await claim_one(store)
    assert await finish(store, running, Outcome.FAILED, retry_at=T0 + 1)
    assert await state_of(store, child.id) is JobState.BLOCKED
    await succeed(store, parent, now=T0 + 1)
    assert await state_of(store, child.id) is Q


async def test_failed_parent_cancels_every_descendant(store: Store) -> None:
    root = await add(store, max_retries=0)
    child = await add(store, depends_on=[root.id])
    grandchild = await add(store, depends_on=[child.id])
    great = await add(store, depends_on=[grandchild.id])
    bystander_parent = await add(store)
    both = await add(store, depends_on=[bystander_parent.id, child.id])
    running = await claim_one(store)
    assert running.id == root.id
    assert await finish(store, running, Outcome.FAILED, now=T0 + 7, error_message="boom")
    for job in (child, grandchild, great, both):
        got = await store.get(job.id)
        assert got.state is C, job
        assert got.reason is not None
        assert str(root.id) in got.reason
        assert "failed" in got.reason
        assert got.finished_at == T0 + 7
    assert await state_of(store, bystander_parent.id) is Q


async def test_cancelled_parent_cancels_descendants(store: Store) -> None:
    root = await add(store)
    child = await add(store, depends_on=[root.id])
    grandchild = await add(store, depends_on=[child.id])
    await store.cancel(root.id, now=T0 + 1)
    for job in (child, grandchild):
        got = await store.get(job.id)
        assert got.state is C
        assert got.reason is not None
        assert str(root.id) in got.reason


async def test_cancelled_blocked_job_cancels_its_descendants(store: Store) -> None:
    root = await add(store)
    child = await add(store, depends_on=[root.id])
    grandchild = await add(store, depends_on=[child.id])
    await store.cancel(child.id, now=T0 + 1)
    assert await state_of(store, child.id) is C
    assert await state_of(store, grandchild.id) is C
    assert await state_of(store, root.id) is Q


# -- reap ----------------------------------------------------------------------------


async def test_reap_takes_back_the_jobs_of_a_silent_worker(store: Store) -> None:
    await register(store, "w1", host="box-1", pid=111)
    await register(store, "w2", host="box-2", pid=222)
    job = await add(store, backoff_base=4.0, backoff_cap=100.0)
    running = await claim_one(store, "w1", now=T0)
    await store.heartbeat("w2", [], now=T0 + 90)  # w2 stays alive
    reaped = await store.reap(LEASE, now=T0 + 100)

    assert len(reaped) == 1
    [r] = reaped
    assert r.requeued
    assert r.job.id == job.id
    assert r.job.state is Q
    assert r.job.errors == 1
    assert T0 + 100 + 2.0 <= r.job.run_at <= T0 + 100 + 4.0  # backoff(1, base 4)
    assert r.job.lease is None
    assert r.job.error is not None
    assert "w1" in r.job.error
    assert await store.get(job.id) == r.job

    attempt = r.attempt
    assert (attempt.number, attempt.outcome, attempt.ended_at) == (1, Outcome.LOST, T0 + 100)
    assert attempt.error_type == "WorkerLost"
    assert attempt.evidence is not None
    assert attempt.evidence["worker_id"] == "w1"
    assert attempt.evidence["host"] == "box-1"
    assert attempt.evidence["pid"] == 111
    assert attempt.evidence["last_heartbeat_age_s"] == pytest.approx(100.0)
    assert attempt.evidence["lease_s"] == LEASE
    assert await store.attempts(job.id) == [attempt]

    workers = {w.id: w for w in await store.workers()}
    assert workers["w1"].state == "dead"
    assert workers["w1"].evidence is not None
    assert workers["w1"].evidence["last_heartbeat_age_s"] == pytest.approx(100.0)
    assert workers["w1"].evidence["lease_s"] == LEASE
    assert workers["w2"].state == "running"
    assert workers["w2"].evidence is None

    assert running.lease is not None
    assert not await finish(store, running, Outcome.SUCCEEDED, now=T0 + 101)
    again = await claim_one(store, "w2", now=r.job.run_at)
    assert again.attempt == 2


async def test_reap_leaves_live_workers_alone(store: Store) -> None:
    await register(store)
    await add(store)
    job = await claim_one(store)
    await store.heartbeat("w1", [Progress(job.id, job.lease or "", None, None, None)],
                          now=T0 + 80)
    assert await store.reap(LEASE, now=T0 + 100) == []
    assert await state_of(store, job.id) is R
    assert [w.state for w in await store.workers()] == ["running"]


async def test_reap_judges_each_worker_by_its_own_lease(store: Store) -> None:
    # A worker with a long lease (and a slow heartbeat) is not dead at the reaper's 30 s;
    # one with a short lease is dead long before it.
    await register(store, "slow", lease=120.0)
    await register(store, "quick", lease=3.0)
    await register(store, "old")  # registered before leases were kept: the reaper's
    for _ in range(3):
        await add(store)
    slow = await claim_one(store, "slow")
    quick = await claim_one(store, "quick")
    old = await claim_one(store, "old")

    assert await store.reap(LEASE, now=T0 + 2) == []
    [r] = await store.reap(LEASE, now=T0 + 5)
    assert (r.job.id, r.job.state) == (quick.id, Q)
    assert r.attempt.evidence is not None
    assert r.attempt.evidence["lease_s"] == 3.0
    [r] = await store.reap(LEASE, now=T0 + 60)
    assert r.job.id == old.id
    assert r.attempt.evidence is not None
    assert r.attempt.evidence["lease_s"] == LEASE
    assert await state_of(store, slow.id) is R
    workers = {w.id: w for w in await store.workers()}
    assert (workers["slow"].state, workers["slow"].lease) == ("running", 120.0)
    assert workers["quick"].evidence is not None
    assert workers["quick"].evidence["lease_s"] == 3.0
    [r] = await store.reap(LEASE, now=T0 + 121)
    assert r.job.id == slow.id


async def test_reap_fails_the_job_when_the_budget_is_spent(store: Store) -> None:
    await register(store)
    job = await add(store, max_retries=1)
    child = await add(store, depends_on=[job.id])
    first = await claim_one(store)
    assert await finish(store, first, Outcome.FAILED, retry_at=T0 + 1)  # errors = 1
    await store.heartbeat("w1", [], now=T0 + 1)
    await claim_one(store, now=T0 + 1)
    [r] = await store.reap(LEASE, now=T0 + 100)
    assert not r.requeued
    assert r.job.state is JobState.FAILED
    assert r.job.errors == 2
    assert r.job.finished_at == T0 + 100
    assert r.attempt.number == 2
    assert r.attempt.outcome is Outcome.LOST
    got_child = await store.get(child.id)
    assert got_child.state is C
    assert got_child.reason is not None
    assert str(job.id) in got_child.reason


async def test_reap_with_no_retries_fails_at_once(store: Store) -> None:
    await register(store)
    job = await add(store, max_retries=0)
    await claim_one(store)
    [r] = await store.reap(LEASE, now=T0 + 100)
    assert (r.requeued, r.job.state, r.job.id) == (False, JobState.FAILED, job.id)


async def test_reap_ends_a_cancel_requested_job_cancelled(store: Store) -> None:
    await register(store)
    job = await add(store)
    child = await add(store, depends_on=[job.id])
    await claim_one(store)
    await store.cancel(job.id, "stop", now=T0 + 1)
    [r] = await store.reap(LEASE, now=T0 + 100)
    assert not r.requeued
    assert r.job.state is C
    assert r.job.reason == "stop"
    assert r.job.finished_at == T0 + 100
    assert r.attempt.outcome is Outcome.LOST
    assert await state_of(store, child.id) is C
    assert await store.claim("w1", [], 10, now=T0 + 1000) == []


async def test_reap_twice_does_nothing_the_second_time(store: Store) -> None:
    await register(store)
    await store.enqueue_many([spec(), spec()], now=T0)
    await store.claim("w1", [], 2, now=T0)
    assert len(await store.reap(LEASE, now=T0 + 100)) == 2
    assert await store.reap(LEASE, now=T0 + 101) == []
    for job in await all_jobs(store):
        assert [a.outcome for a in await store.attempts(job.id)] == [Outcome.LOST]


async def test_concurrent_reapers_reap_each_job_once(
        store: Store, database_url: str, open_store: OpenStore) -> None:
    await register(store)
    await store.enqueue_many([spec() for _ in range(20)], now=T0)
    await store.claim("w1", [], 20, now=T0)
    async with open_store(database_url) as other:
        first, second = await asyncio.gather(store.reap(LEASE, now=T0 + 100),
                                             other.reap(LEASE, now=T0 + 100))
    ids = [r.job.id for r in first + second]
    assert sorted(ids) == sorted(j.id for j in await all_jobs(store))
    assert len(ids) == 20
    for job in await all_jobs(store):
        assert job.state is Q
        assert job.errors == 1
        assert [a.outcome for a in await store.attempts(job.id)] == [Outcome.LOST]


async def test_reap_a_running_job_without_a_worker_row(store: Store) -> None:
    job = await add(store)
    await claim_one(store, "ghost", now=T0)
    assert await store.reap(LEASE, now=T0 + LEASE - 1) == []
    [r] = await store.reap(LEASE, now=T0 + LEASE + 1)
    assert r.job.id == job.id
    assert r.requeued
    assert r.attempt.evidence is not None
    assert r.attempt.evidence["worker_id"] == "ghost"


async def test_stopped_worker_leftovers_are_reaped(store: Store) -> None:
    await register(store)
    await add(store)
    job = await claim_one(store)
    await store.stop_worker("w1", now=T0 + 1)
    [worker] = await store.workers()
    assert worker.state == "stopped"
    assert worker.current_jobs == []
    [r] = await store.reap(LEASE, now=T0 + 2)
    assert r.job.id == job.id


async def test_dead_worker_heartbeat_revives_it_and_reports_lost(store: Store) -> None:
    await register(store)
    await add(store)
    job = await claim_one(store)
    await store.reap(LEASE, now=T0 + 100)
    reply = await store.heartbeat("w1", [Progress(job.id, job.lease or "", None, None, None)],
                                  now=T0 + 101)
    assert reply.lost == [job.id]
    [worker] = await store.workers()
    assert worker.state == "running"


# -- cancel --------------------------------------------------------------------------


async def test_cancel_queued_is_immediate(store: Store) -> None:
    job = await add(store)
    got = await store.cancel(job.id, "changed my mind", now=T0 + 3)
    assert got.state is C
    assert got.reason == "changed my mind"
    assert got.finished_at == T0 + 3
    assert await store.get(job.id) == got


async def test_cancel_blocked_is_immediate(store: Store) -> None:
    parent = await add(store)
    child = await add(store, depends_on=[parent.id])
    got = await store.cancel(child.id, now=T0 + 3)
    assert got.state is C
    assert got.reason == "cancelled by request"
    # The parent is not touched, and its success does not revive the child.
    await succeed(store, parent, now=T0 + 4)
    assert await state_of(store, child.id) is C


async def test_cancel_running_only_requests(store: Store) -> None:
    job = await add(store)
    running = await claim_one(store)
    got = await store.cancel(job.id, "please stop", now=T0 + 1)
    assert got.state is R
    assert got.cancel_requested
    assert got.lease == running.lease
    assert got.reason == "please stop"
    assert (await store.get(job.id)).cancel_requested


@pytest.mark.parametrize("outcome", [Outcome.SUCCEEDED, Outcome.FAILED, Outcome.CANCELLED])
async def test_cancel_terminal_is_illegal(store: Store, outcome: Outcome) -> None:
    job = await add(store, max_retries=0)
    assert await finish(store, await claim_one(store), outcome, now=T0 + 1)
    before = await store.get(job.id)
    with pytest.raises(IllegalTransition):
        await store.cancel(job.id, now=T0 + 2)
    assert await store.get(job.id) == before


async def test_cancel_unknown_job(store: Store) -> None:
    with pytest.raises(JobNotFound) as caught:
        await store.cancel(999, now=T0)
    assert caught.value.job_id == 999


# -- retry ---------------------------------------------------------------------------


async def test_retry_failed_job(store: Store) -> None:
    job = await add(store, max_retries=1)
    first = await claim_one(store)
    assert await finish(store, first, Outcome.FAILED, retry_at=T0 + 1)
    second = await claim_one(store, now=T0 + 1)
    assert await finish(store, second, Outcome.FAILED, now=T0 + 2)
    failed = await store.get(job.id)
    assert (failed.state, failed.errors, failed.retries_left) == (JobState.FAILED, 2, 0)

    got = await store.retry(job.id, now=T0 + 50)
    assert got.state is Q
    assert got.errors == 0
    assert got.retries_left == 1
    assert got.run_at == T0 + 50
    assert got.finished_at is None
    assert await store.get(job.id) == got
    third = await claim_one(store, now=T0 + 50)
    assert third.attempt == 3
    assert [a.number for a in await store.attempts(job.id)] == [1, 2, 3]


async def test_retry_cancelled_job(store: Store) -> None:
    job = await add(store)
    await store.cancel(job.id, now=T0)
    got = await store.retry(job.id, now=T0 + 1)
    assert got.state is Q
    assert got.reason is None
    assert not got.cancel_requested
    assert (await claim_one(store, now=T0 + 1)).id == job.id


async def test_retry_job_cancelled_while_running(store: Store) -> None:
    job = await add(store)
    running = await claim_one(store)
    await store.cancel(job.id, now=T0)
    assert await finish(store, running, Outcome.CANCELLED)
    got = await store.retry(job.id, now=T0 + 1)
    assert (got.state, got.cancel_requested) == (Q, False)
    again = await claim_one(store, now=T0 + 1)
    assert not again.cancel_requested


async def test_retry_succeeded_is_illegal(store: Store) -> None:
    job = await succeed(store, await add(store))
    with pytest.raises(IllegalTransition):
        await store.retry(job.id, now=T0 + 1)
    assert await store.get(job.id) == job


async def test_retry_active_job_is_illegal(store: Store) -> None:
    queued = await add(store)
    blocked = await add(store, depends_on=[queued.id])
    for job in (queued, blocked):
        with pytest.raises(IllegalTransition):
            await store.retry(job.id, now=T0 + 1)
        assert await store.get(job.id) == job
    running = await claim_one(store)
    with pytest.raises(IllegalTransition):
        await store.retry(running.id, now=T0 + 1)
    assert await state_of(store, running.id) is R


async def test_retry_unique_key_conflict(store: Store) -> None:
    old = await add(store, unique_key="k", max_retries=0)
    assert await finish(store, await claim_one(store), Outcome.FAILED)
    new = await add(store, unique_key="k", now=T0 + 1)
    assert new.id != old.id
    before = await store.get(old.id)
    with pytest.raises(UniqueKeyConflict) as caught:
        await store.retry(old.id, now=T0 + 2)
    assert caught.value.key == "k"
    assert caught.value.holder == new.id
    assert await store.get(old.id) == before


async def test_retry_unknown_job(store: Store) -> None:
    with pytest.raises(JobNotFound):
        await store.retry(12345, now=T0)


# -- reading -------------------------------------------------------------------------


async def test_get_and_attempts_of_unknown_job(store: Store) -> None:
    with pytest.raises(JobNotFound):
        await store.get(1)
    with pytest.raises(JobNotFound):
        await store.attempts(1)


async def test_attempts_of_a_new_job_is_empty(store: Store) -> None:
    job = await add(store)
    assert await store.attempts(job.id) == []


async def test_list_jobs_filters(store: Store) -> None:
    a = await add(store, task="a", queue="q1", request_id="r1", now=T0)
    b = await add(store, task="b", queue="q2", request_id="r1", now=T0 + 10)
    c = await add(store, task="a", queue="q2", request_id="r2", now=T0 + 20)
    d = await add(store, task="b", queue="q1", now=T0 + 30)
    running = await claim_one(store, now=T0 + 40, queues=["q1"])
    assert running.id == a.id
    await store.cancel(c.id, now=T0 + 41)

    async def ids(flt: JobFilter | None = None) -> list[int]:
        return [j.id for j in (await store.list_jobs(flt)).jobs]

    assert await ids() == [d.id, c.id, b.id, a.id]  # newest first
    assert await ids(JobFilter(states=[R])) == [a.id]
    assert await ids(JobFilter(states=[Q, C])) == [d.id, c.id, b.id]
    assert await ids(JobFilter(queue="q2")) == [c.id, b.id]
    assert await ids(JobFilter(task="a")) == [c.id, a.id]
    assert await ids(JobFilter(request_id="r1")) == [b.id, a.id]
    assert await ids(JobFilter(created_after=T0 + 10)) == [d.id, c.id, b.id]
    assert await ids(JobFilter(created_before=T0 + 20)) == [b.id, a.id]
    assert await ids(JobFilter(created_after=T0 + 5, created_before=T0 + 25)) == [c.id, b.id]
    assert await ids(JobFilter(task="b", queue="q1", states=[Q])) == [d.id]
    assert await ids(JobFilter(task="nope")) == []
    page = await store.list_jobs(JobFilter(states=[R]))
    assert page.jobs[0] == await store.get(a.id)


async def test_list_jobs_keyset_pagination_covers_every_job_once(store: Store) -> None:
    made = await store.enqueue_many([spec(str(i)) for i in range(23)], now=T0)
    seen: list[int] = []
    cursor: int | None = None
    pages = 0
    while True:
        page = await store.list_jobs(limit=5, before_id=cursor)
        pages += 1
        assert len(page.jobs) <= 5
        seen += [j.id for j in page.jobs]
        if page.next_cursor is None:
            break
        assert page.next_cursor == page.jobs[-1].id
        cursor = page.next_cursor
    assert pages == 5
    assert seen == sorted((j.id for j in made), reverse=True)
    # An exact multiple of the page size ends without an empty extra page.
    exact = await store.list_jobs(limit=23)
    assert len(exact.jobs) == 23
    assert exact.next_cursor is None


async def test_list_jobs_rejects_a_non_positive_limit(store: Store) -> None:
    await add(store)
    for limit in (0, -1):
        with pytest.raises(ValueError, match="limit"):
            await store.list_jobs(limit=limit)


async def test_list_jobs_pagination_with_a_filter(store: Store) -> None:
    await store.enqueue_many([spec(queue="even" if i % 2 == 0 else "odd") for i in range(11)],
                             now=T0)
    seen: list[Job] = []
    cursor: int | None = None
    while True:
        page = await store.list_jobs(JobFilter(queue="even"), limit=2, before_id=cursor)
        seen += page.jobs
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [j.queue for j in seen] == ["even"] * 6
    assert len({j.id for j in seen}) == 6


async def test_queue_stats(store: Store) -> None:
    assert await store.queue_stats(now=T0) == []
    parent = await add(store, queue="a", run_at=T0 + 100)  # created T0, ready T0+100
    await add(store, queue="a", run_at=T0 + 120)
    await add(store, queue="a", depends_on=[parent.id])
    await add(store, queue="b", run_at=T0 + 1000)  # delayed: queued, not ready
    await store.enqueue_many([spec(queue="c") for _ in range(3)], now=T0)
    await store.claim("w1", ["c"], 2, now=T0)
    done = await add(store, queue="d")
    await succeed(store, done)
    await store.set_paused("e", True)

    stats = {s.queue: s for s in await store.queue_stats(now=T0 + 150)}
    assert sorted(stats) == ["a", "b", "c", "e"]  # d holds only history
    assert stats["a"].counts == {JobState.BLOCKED: 1, Q: 2, R: 0}
    assert stats["a"].oldest_ready_age == pytest.approx(50.0)  # since run_at, not created_at
    assert stats["b"].counts == {JobState.BLOCKED: 0, Q: 1, R: 0}
    assert stats["b"].oldest_ready_age is None
    assert stats["c"].counts == {JobState.BLOCKED: 0, Q: 1, R: 2}
    assert stats["c"].oldest_ready_age == pytest.approx(150.0)
    assert stats["e"].paused
    assert not stats["a"].paused
    assert stats["e"].counts == {JobState.BLOCKED: 0, Q: 0, R: 0}

    early = {s.queue: s for s in await store.queue_stats(now=T0 + 10)}
    assert early["a"].oldest_ready_age is None


async def test_workers(store: Store) -> None:
    assert await store.workers() == []
    await register(store, "w1", now=T0)
    await register(store, "w2", now=T0 + 5, host="box-2", pid=9)
    workers = {w.id: w for w in await store.workers()}
    assert sorted(workers) == ["w1", "w2"]
    w2 = workers["w2"]
    assert (w2.host, w2.pid, w2.queues, w2.state) == ("box-2", 9, ["default"], "running")
    assert (w2.started_at, w2.last_heartbeat, w2.jobs_done) == (T0 + 5, T0 + 5, 0)
    await store.stop_worker("w1", now=T0 + 9)
    workers = {w.id: w for w in await store.workers()}
    assert workers["w1"].state == "stopped"
    assert workers["w1"].last_heartbeat == T0 + 9


async def test_prune_deletes_only_old_terminal_jobs(store: Store) -> None:
    old_done = await add(store, now=T0 - 1000)
    await succeed(store, old_done, now=T0 - 900)
    old_failed = await add(store, max_retries=0, now=T0 - 1000)
    assert await finish(store, await claim_one(store, now=T0 - 800), Outcome.FAILED,
                        now=T0 - 800)
    old_cancelled = await add(store, now=T0 - 1000)
    await store.cancel(old_cancelled.id, now=T0 - 700)
    recent = await add(store, now=T0 - 1000)
    await succeed(store, recent, now=T0 - 10)
    old_queued = await add(store, now=T0 - 5000)
    old_running = await add(store, now=T0 - 5000, queue="r")
    await claim_one(store, now=T0 - 4000, queues=["r"])
    old_blocked = await add(store, depends_on=[old_queued.id], now=T0 - 5000)

    assert await store.prune(T0 - 100) == 3
    for gone in (old_done, old_failed, old_cancelled):
        with pytest.raises(JobNotFound):
            await store.get(gone.id)
        with pytest.raises(JobNotFound):
            await store.attempts(gone.id)
    kept = {j.id for j in await all_jobs(store)}
    assert kept == {recent.id, old_queued.id, old_running.id, old_blocked.id}
    assert len(await store.attempts(recent.id)) == 1
    assert await store.prune(T0 - 100) == 0


# -- wake-ups ------------------------------------------------------------------------


async def test_wait_for_jobs_wakes_on_an_enqueue_from_another_store(
        store: Store, database_url: str, open_store: OpenStore) -> None:
    async with open_store(database_url) as producer:
        await store.wait_for_jobs(0)  # establish what "new" means
        waiting = asyncio.create_task(store.wait_for_jobs(60))
        await producer.enqueue_many([spec()], now=T0)
        await asyncio.wait_for(waiting, timeout=10)  # far less than the 60 asked
    assert waiting.done()
    assert len(await all_jobs(store)) == 1


async def test_wait_for_jobs_returns_after_the_timeout(store: Store) -> None:
    started = time.monotonic()
    await asyncio.wait_for(store.wait_for_jobs(0.2), timeout=10)
    assert time.monotonic() - started >= 0.1  # it did wait rather than return at once
    assert await all_jobs(store) == []


async def test_retrying_a_child_before_its_parent_succeeded_blocks_it_again(store: Store) -> None:
    parent = (await store.enqueue_many([JobSpec(task="parent", max_retries=0)]))[0]
    child = (await store.enqueue_many([JobSpec(task="child", depends_on=[parent.id])]))[0]
    claimed = (await store.claim("w", [], 1))[0]
    await store.finish_many([Report(claimed.id, claimed.lease or "", Outcome.FAILED,
                                    error_message="boom")])
    assert (await store.get(child.id)).state is JobState.CANCELLED
    assert (await store.retry(child.id)).state is JobState.BLOCKED  # the parent still failed
    await store.retry(parent.id)
    again = (await store.claim("w", [], 5))
    assert [j.id for j in again] == [parent.id]  # the child does not run before its parent
    await store.finish_many([Report(parent.id, again[0].lease or "", Outcome.SUCCEEDED)])
    assert (await store.get(child.id)).state is JobState.QUEUED


async def test_prune_drops_the_edges_of_pruned_parents(store: Store) -> None:
    parent = (await store.enqueue_many([JobSpec(task="parent")], now=1000.0))[0]
    child = (await store.enqueue_many([JobSpec(task="child", depends_on=[parent.id])],
                                      now=1000.0))[0]
    claimed = (await store.claim("w", [], 1, now=1000.0))[0]
    await store.finish_many([Report(claimed.id, claimed.lease or "", Outcome.SUCCEEDED)],
                            now=1000.0)
    assert await store.prune(2000.0) == 1  # the parent; the child is still queued
    assert (await store.get(child.id)).parents == []


async def test_heartbeat_names_jobs_the_worker_did_not_list(store: Store) -> None:
    await store.register_worker(WorkerInfo(id="w", host="h", pid=1, queues=[],
                                           started_at=10.0, last_heartbeat=10.0,
                                           state="running"))
    await store.enqueue_many([JobSpec(task="a"), JobSpec(task="b")], now=10.0)
    first, second = await store.claim("w", [], 2, now=20.0)
    reply = await store.heartbeat("w", [Progress(first.id, first.lease or "", None, None, None)],
                                  now=30.0)
    assert reply.unlisted == [(second.id, second.lease, 20.0)]
    assert reply.lost == []


async def test_cancelling_a_finished_job_names_it(store: Store) -> None:
    job = (await store.enqueue_many([JobSpec(task="t")]))[0]
    await store.cancel(job.id)
    with pytest.raises(IllegalTransition, match=f"job {job.id}: cannot go from cancelled"):
        await store.cancel(job.id)


async def test_progress_with_only_a_total_is_stored(store: Store) -> None:
    await store.enqueue_many([JobSpec(task="t")], now=10.0)
    job = (await store.claim("w", [], 1, now=20.0))[0]
    await store.heartbeat("w", [Progress(job.id, job.lease or "", None, 50, None)], now=30.0)
    assert (await store.get(job.id)).progress_total == 50
