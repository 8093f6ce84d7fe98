"""The `Store` contract for the verbs the HTTP API added: API tokens and the health
sample. Same rules as test_store_contract.py: the `store` fixture only, time through
`now=`. Every backend."""

from __future__ import annotations

import time
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from jobglass.model import ConfigError, Job, JobSpec, JobState, Outcome, WorkerInfo
from jobglass.model.access import Scope, hash_token, new_token
from jobglass.observe.exporter import MetricsExporter
from jobglass.store import Report, Store
from jobglass.web.serialize import worker_json

T0 = 1_700_000_000.0


async def add(store: Store, *, now: float = T0, **fields: Any) -> Job:
    [job] = await store.enqueue_many([JobSpec(task=fields.pop("task", "t"), **fields)], now=now)
    return job


async def register(store: Store, worker_id: str = "w1", *, now: float = T0,
                   lease: float | None = None) -> None:
    await store.register_worker(WorkerInfo(id=worker_id, host="host-a", pid=4242,
                                           queues=[], started_at=now, last_heartbeat=now,
                                           state="running", lease=lease))


async def run_one(store: Store, worker_id: str = "w1", *, now: float = T0) -> Job:
    [job] = await store.claim(worker_id, [], 1, now=now)
    return job


async def finish(store: Store, job: Job, outcome: Outcome, *, now: float) -> None:
    assert await store.finish_many([Report(job.id, job.lease or "", outcome)], now=now) == [True]


# -- tokens ----------------------------------------------------------------------------


async def test_a_token_is_found_by_its_hash_only_while_active(store: Store) -> None:
    assert not await store.has_tokens()
    secret = new_token()
    made = await store.create_token("ci", Scope.WRITE, hash_token(secret), now=T0)
    assert (made.name, made.scope, made.created_at, made.revoked_at) == ("ci", Scope.WRITE, T0,
                                                                         None)
    assert await store.has_tokens()
    found = await store.token_by_hash(hash_token(secret), now=T0 + 1)
    assert found is not None
    assert found.id == made.id
    assert found.last_used_at == T0 + 1
    assert await store.token_by_hash(hash_token(secret + "x")) is None

    assert await store.revoke_token("ci", now=T0 + 2)
    assert not await store.revoke_token("ci", now=T0 + 3)  # nothing active by that name
    assert await store.token_by_hash(hash_token(secret)) is None
    assert not await store.has_tokens()
    [listed] = await store.list_tokens()
    assert listed.revoked_at == T0 + 2
    assert not listed.active


async def test_token_names_are_unique_among_active_tokens(store: Store) -> None:
    await store.create_token("ops", Scope.ADMIN, hash_token(new_token()))
    with pytest.raises(ConfigError):
        await store.create_token("ops", Scope.READ, hash_token(new_token()))
    assert await store.revoke_token("ops")
    again = await store.create_token("ops", Scope.READ, hash_token(new_token()))
    assert [t.name for t in await store.list_tokens()] == ["ops", "ops"]
    assert again.scope is Scope.READ


async def test_last_used_is_written_at_most_once_a_minute(store: Store) -> None:
    secret = new_token()
    await store.create_token("t", Scope.READ, hash_token(secret), now=T0)
    await store.token_by_hash(hash_token(secret), now=T0 + 10)
    seen = await store.token_by_hash(hash_token(secret), now=T0 + 20)
    assert seen is not None
    assert seen.last_used_at == T0 + 10
    later = await store.token_by_hash(hash_token(secret), now=T0 + 80)
    assert later is not None
    assert later.last_used_at == T0 + 80


# -- throughput and the health sample -------------------------------------------------------


async def test_throughput_counts_jobs_that_ended_inside_the_window(store: Store) -> None:
    await register(store)
    for when, outcome in ((T0 + 1, Outcome.SUCCEEDED), (T0 + 500, Outcome.SUCCEEDED),
                          (T0 + 510, Outcome.FAILED)):
        await add(store, queue="mail", max_retries=0, now=when - 1)
        job = await run_one(store, now=when - 1)
        await finish(store, job, outcome, now=when)
    other = await add(store, queue="reports", now=T0 + 520)
    await store.cancel(other.id, now=T0 + 530)

    [mail, reports] = await store.throughput(100, now=T0 + 540)
    assert (mail.queue, mail.succeeded, mail.failed, mail.cancelled) == ("mail", 1, 1, 0)
    assert mail.failure_rate == 0.5
    assert mail.per_minute == pytest.approx(1.2)
    assert (reports.queue, reports.cancelled, reports.finished) == ("reports", 1, 0)
    assert await store.throughput(5, now=T0 + 10_000) == []


async def test_health_sample_names_running_jobs_that_look_stuck(store: Store) -> None:
    await register(store, "quiet", now=T0)
    await register(store, "busy", now=T0)
    await add(store, task="slow", timeout=10)
    slow = await run_one(store, "busy", now=T0)
    await add(store, task="frozen")
    frozen = await run_one(store, "quiet", now=T0)
    await add(store, task="fine")
    await run_one(store, "busy", now=T0)
    await store.heartbeat("busy", [], now=T0 + 59)  # busy is alive; quiet went silent at T0

    sample = await store.health_sample(silent_after=30, window=300, now=T0 + 60)
    by_id = {s.job_id: s for s in sample.suspects}
    assert set(by_id) == {slow.id, frozen.id}  # "fine" is inside its (absent) timeout
    assert by_id[slow.id].timeout == 10
    assert by_id[slow.id].worker_id == "busy"
    assert by_id[frozen.id].last_heartbeat == T0
    assert by_id[frozen.id].worker_state == "running"
    assert (by_id[frozen.id].host, by_id[frozen.id].pid) == ("host-a", 4242)
    assert sample.now == T0 + 60
    assert sample.window == 300
    assert [q.queue for q in sample.queues] == ["default"]
    assert sample.queues[0].counts[JobState.RUNNING] == 3
    # The suspects alone (read by the stuck-jobs gauge each scrape): the same rows.
    assert await store.suspects(silent_after=30, now=T0 + 60) == sample.suspects
    assert await store.suspects(silent_after=30, now=T0 + 60, limit=1) == sample.suspects[:1]


async def test_health_sample_sees_dead_workers_and_the_newest_finish(store: Store) -> None:
    await register(store, "w1", now=T0)
    await add(store)
    held = await run_one(store, "w1", now=T0)
    await store.stop_worker("w1", now=T0 + 1)  # stopped, yet its job still runs: a suspect
    await register(store, "w2", now=T0 + 2)
    await add(store, now=T0 + 2)
    done = await run_one(store, "w2", now=T0 + 2)
    await finish(store, done, Outcome.SUCCEEDED, now=T0 + 3)
    await add(store, now=T0 + 4)

    sample = await store.health_sample(silent_after=1000, window=300, now=T0 + 5)
    assert [(s.job_id, s.worker_state) for s in sample.suspects] == [(held.id, "stopped")]
    assert sample.last_finished_at == T0 + 3
    assert sample.queues[0].oldest_ready_age == pytest.approx(1.0)
    [tp] = sample.throughput
    assert tp.succeeded == 1


async def test_health_sample_limits_its_suspects(store: Store) -> None:
    await store.enqueue_many([JobSpec(task="t") for _ in range(5)], now=T0)
    await store.claim("ghost", [], 5, now=T0)  # no worker row at all
    sample = await store.health_sample(silent_after=1, window=60, now=T0 + 1, limit=3)
    assert len(sample.suspects) == 3
    assert all(s.worker_state is None for s in sample.suspects)
    assert sample.last_finished_at is None


async def test_a_worker_is_judged_alive_by_its_own_lease(store: Store) -> None:
    # Both silent for 60 s: dead by the default 30 s lease, alive by a 120 s one. The
    # gauges sample at the wall clock, so the workers are registered a minute ago.
    ago = time.time() - 60
    await register(store, "slow", now=ago, lease=120.0)
    await register(store, "plain", now=ago)
    await add(store, now=ago)
    await run_one(store, "slow", now=ago)

    sample = await store.health_sample(silent_after=30, window=300, now=ago + 60)
    assert [(s.worker_id, s.lease) for s in sample.suspects] == [("slow", 120.0)]

    body, _ = await MetricsExporter(lease=30.0).render(store, None)
    workers = {s.labels["state"]: s.value
               for family in text_string_to_metric_families(body.decode())
               if family.name == "jobglass_workers" for s in family.samples}
    assert (workers["alive"], workers["dead"]) == (1, 1)

    listed = {w.id: worker_json(w, ago + 60, 30.0) for w in await store.workers()}
    assert (listed["slow"]["alive"], listed["slow"]["lease"]) == (True, 120.0)
    assert (listed["plain"]["alive"], listed["plain"]["lease"]) == (False, None)
