"""Real `jobglass worker` processes on PostgreSQL: exactly once with four processes,
kill -9 at random, a server restart mid-run, transactional enqueue, one unique key
under 50 concurrent enqueues, and the maintenance leader killed.

Each test has a fresh schema of its own (`pg_workers`/`pg_store` in conftest.py);
without a server they are skipped loudly, and fail under CI=true.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import accapp
import psycopg
import pytest
from pg import PG_URL
from procs import WaitFor, Workers, wait_exit

from jobglass.model import Job, JobNotFound, JobSpec, JobState, Outcome, StoreUnavailable
from jobglass.store import JobFilter, Store
from jobglass.store.postgres.config import parse_url
from jobglass.store.postgres.leader import leader_name

pytestmark = pytest.mark.postgres

BATCH = 1000


# -- helpers ---------------------------------------------------------------------------


async def enqueue(store: Store, specs: list[JobSpec]) -> list[Job]:
    jobs: list[Job] = []
    for start in range(0, len(specs), BATCH):
        jobs += await store.enqueue_many(specs[start:start + BATCH])
    return jobs


async def all_jobs(store: Store) -> list[Job]:
    jobs: list[Job] = []
    cursor = None
    while True:
        page = await store.list_jobs(JobFilter(), limit=1000, before_id=cursor)
        jobs += page.jobs
        if page.next_cursor is None:
            return jobs
        cursor = page.next_cursor


def tolerant(check: Callable[[], Awaitable[bool]]) -> Callable[[], Awaitable[bool]]:
    """A wait_for predicate that counts an unreachable store as 'not yet'."""

    async def predicate() -> bool:
        try:
            return await check()
        except StoreUnavailable:
            return False

    return predicate


def drained(store: Store) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return all(sum(q.counts.values()) == 0 for q in await store.queue_stats())

    return tolerant(check)


def runs_by_job(workers: Workers) -> dict[int, list[tuple[int, int]]]:
    """acc.chaos trace lines: job id -> [(attempt, pid), ...] in the order they ran."""
    runs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for line in workers.trace_lines():
        job_id, _, attempt, _, pid = line.split()
        runs[int(job_id)].append((int(attempt), int(pid)))
    return runs


def alive(procs: list[subprocess.Popen[bytes]]) -> list[subprocess.Popen[bytes]]:
    return [p for p in procs if p.poll() is None]


async def leader_holder(url: str) -> str | None:
    """The worker id whose session holds this schema's leader lock (from pg_locks)."""
    key = parse_url(url).lock_key("leader") & 0xFFFF_FFFF_FFFF_FFFF
    async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.classid::bigint = %s AND l.objid::bigint = %s",
            (key >> 32, key & 0xFFFF_FFFF))
        row = await cur.fetchone()
    prefix = leader_name("")
    if row is None or not str(row[0]).startswith(prefix):
        return None
    return str(row[0])[len(prefix):]


async def worker_ids_by_pid(store: Store) -> dict[int, str]:
    return {w.pid: w.id for w in await store.workers() if w.state == "running"}


def pg_cluster() -> tuple[str, str]:
    """(version, name) of the local cluster serving port 5432, from pg_lsclusters."""
    out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                         check=True).stdout
    wanted = str(urlsplit(PG_URL).port or 5432)
    for line in out.splitlines():
        version, name, port, *_ = line.split()
        if port == wanted:
            return version, name
    raise AssertionError(f"no cluster on the test port in:\n{out}")


def pg_ctl(action: str) -> None:
    version, name = pg_cluster()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action],
                   check=True, capture_output=True, timeout=60)


def pg_is_up() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


# -- exactly once ----------------------------------------------------------------------


async def test_four_processes_run_each_of_10000_jobs_exactly_once(
        pg_workers: Workers, pg_store: Store, wait_for: WaitFor) -> None:
    jobs = await enqueue(pg_store, [accapp.app.spec_for("acc.record", [f"n{i}"])
                                    for i in range(10_000)])
    supervisor = pg_workers.start("--processes", "4", "--concurrency", "50")
    await wait_for(drained(pg_store), 60, interval=0.2, message="10,000 jobs to finish")
    supervisor.send_signal(signal.SIGTERM)
    assert await wait_exit(supervisor) == 0

    ran = Counter(int(line.split()[0]) for line in pg_workers.trace_lines())
    assert set(ran) == {j.id for j in jobs}
    assert max(ran.values()) == 1, [k for k, v in ran.items() if v > 1][:10]
    stored = await all_jobs(pg_store)
    assert len(stored) == 10_000
    assert {j.state for j in stored} == {JobState.SUCCEEDED}
    assert {j.attempt for j in stored} == {1}
    assert {j.errors for j in stored} == {0}
    workers = await pg_store.workers()
    assert len(workers) == 4
    assert sum(w.jobs_done for w in workers) == 10_000
    assert all(w.jobs_done > 0 for w in workers)  # all four took part


async def test_kill_9_at_random_every_duplicate_run_is_a_lost_attempt(
        pg_workers: Workers, pg_store: Store, wait_for: WaitFor) -> None:
    seed = 20261123
    rng = random.Random(seed)
    jobs = await enqueue(pg_store, [accapp.app.spec_for("acc.chaos", [0.05])
                                    for _ in range(5000)])
    procs = [pg_workers.start("--concurrency", "10") for _ in range(4)]
    await wait_for(lambda: len(pg_workers.trace_lines()) > 200, 30,
                   message="the workers to get going")
    kills = 0
    deadline = time.monotonic() + 20
    while kills < 8 and time.monotonic() < deadline:
        await asyncio.sleep(rng.uniform(0.3, 1.2))
        if await drained(pg_store)():
            break
        victim = rng.choice(alive(procs))
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        kills += 1
        procs.append(pg_workers.start("--concurrency", "10"))
    assert kills >= 4, f"seed {seed}: the run ended before the kills landed ({kills})"

    await wait_for(drained(pg_store), 60, interval=0.2, message="every job to finish")
    stored = {j.id: j for j in await all_jobs(pg_store)}
    assert {j.state for j in stored.values()} == {JobState.SUCCEEDED}, f"seed {seed}"
    runs = runs_by_job(pg_workers)
    assert set(runs) == {j.id for j in jobs}
    lost_total = 0
    for job_id, ran in runs.items():
        attempts = {a.number: a for a in await pg_store.attempts(job_id)} \
            if len(ran) > 1 or stored[job_id].attempt > 1 else None
        if attempts is None:
            assert ran[0][0] == 1
            continue
        # Attempts end lost or, the last one, succeeded: a job ran twice only when an
        # attempt of it was reaped, and each extra run is one lost attempt.
        final = stored[job_id].attempt
        assert attempts[final].outcome is Outcome.SUCCEEDED, (seed, job_id)
        numbers = [n for n, _ in ran]
        assert len(numbers) == len(set(numbers)), (seed, job_id, ran)  # never one attempt twice
        for number in numbers:
            if number != final:
                assert attempts[number].outcome is Outcome.LOST, (seed, job_id, attempts)
                assert attempts[number].evidence is not None
        lost = [a for a in attempts.values() if a.outcome is Outcome.LOST]
        assert len(lost) == final - 1, (seed, job_id, attempts)
        assert len(ran) - 1 <= len(lost)
        lost_total += len(lost)
    assert lost_total > 0, f"seed {seed}: no kill landed mid-job"
    twice = sum(1 for ran in runs.values() if len(ran) > 1)
    print(f"seed {seed}: {kills} kills, {lost_total} lost attempts, {twice} jobs ran again")
    for proc in alive(procs):
        proc.send_signal(signal.SIGTERM)
        assert await wait_exit(proc) == 0


# -- the server restarts -------------------------------------------------------------------


async def test_postgres_restart_mid_run_loses_nothing_and_runs_nothing_twice(
        pg_workers: Workers, pg_store: Store, wait_for: WaitFor) -> None:
    jobs = await enqueue(pg_store, [accapp.app.spec_for("acc.chaos", [0.02])
                                    for _ in range(3000)])
    # A lease well beyond the restart's length: an outage is not a worker's death.
    procs = [pg_workers.start("--concurrency", "10", heartbeat=0.5, lease=15)
             for _ in range(2)]
    await wait_for(lambda: len(pg_workers.trace_lines()) > 300, 30,
                   message="the workers to get going")
    try:
        pg_ctl("restart")
    finally:
        if not pg_is_up():  # never leave the server down for the tests after this one
            pg_ctl("start")
    restarted = len(pg_workers.trace_lines())
    assert restarted < len(jobs), "the run ended before the restart"

    await wait_for(drained(pg_store), 60, interval=0.2, message="every job to finish")
    stored = await all_jobs(pg_store)
    assert len(stored) == len(jobs)
    assert {j.state for j in stored} == {JobState.SUCCEEDED}
    ran = Counter(int(line.split()[0]) for line in pg_workers.trace_lines())
    assert set(ran) == {j.id for j in jobs}
    assert max(ran.values()) == 1, [k for k, v in ran.items() if v > 1][:10]
    # A claim the server committed as it went down never reached its worker; that
    # worker's heartbeat puts the job back (attempt 1 interrupted, never started) and
    # it runs once, as attempt 2. Nothing else may add an attempt: no reaping.
    put_back = [j for j in stored if j.attempt > 1]
    for job in put_back:
        *earlier, last = await pg_store.attempts(job.id)
        assert last.outcome is Outcome.SUCCEEDED
        assert [a.outcome for a in earlier] == [Outcome.INTERRUPTED], (job, earlier)
    if put_back:
        said = "".join(pg_workers.output(p) for p in procs)
        assert "a claimed job never reached this worker" in said
    print(f"{len(put_back)} jobs whose claim was lost in the restart, put back")
    for proc in procs:
        assert proc.poll() is None, pg_workers.output(proc)
        proc.send_signal(signal.SIGTERM)
        assert await wait_exit(proc) == 0
        output = pg_workers.output(proc)
        # The worker said what happened (a claim, a heartbeat or a result write met the
        # outage), backed off, reconnected and carried on.
        assert "PostgreSQL is unavailable" in output, output[-2000:]


# -- transactional enqueue and unique keys ------------------------------------------------


async def test_a_rolled_back_enqueue_is_never_seen_by_a_running_worker(
        pg_workers: Workers, pg_store: Store, wait_for: WaitFor) -> None:
    worker = pg_workers.start()
    await wait_for(tolerant(lambda: _registered(pg_store)), 30, message="the worker to start")
    from jobglass.store.postgres import PostgresStore

    assert isinstance(pg_store, PostgresStore)
    conninfo = pg_store.config.conninfo
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        [ghost] = await pg_store.enqueue_many(
            [accapp.app.spec_for("acc.record", ["ghost"])], connection=conn)
        await asyncio.sleep(0.5)  # the worker is listening: uncommitted, it hears nothing
        await conn.rollback()
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        [real] = await pg_store.enqueue_many(
            [accapp.app.spec_for("acc.record", ["real"])], connection=conn)
        await conn.commit()

    async def done() -> bool:
        return (await pg_store.get(real.id)).state is JobState.SUCCEEDED

    await wait_for(done, 20, message="the committed job to run")
    await asyncio.sleep(0.5)  # a wrongly visible ghost would have run by now too
    with pytest.raises(JobNotFound):
        await pg_store.get(ghost.id)
    assert [line.split()[1] for line in pg_workers.trace_lines()] == ["real"]
    assert [j.id for j in await all_jobs(pg_store)] == [real.id]
    worker.send_signal(signal.SIGTERM)
    assert await wait_exit(worker) == 0


async def _registered(store: Store, n: int = 1) -> bool:
    return len([w for w in await store.workers() if w.state == "running"]) >= n


async def test_fifty_concurrent_enqueues_of_one_unique_key_make_one_job(
        pg_workers: Workers, pg_store: Store, wait_for: WaitFor) -> None:
    """The integration suite proves the race on the store (test_postgres_store.py);
    here a worker runs meanwhile, and the job runs once."""
    worker = pg_workers.start()
    await wait_for(tolerant(lambda: _registered(pg_store)), 30, message="the worker to start")
    spec = accapp.app.spec_for("acc.sleep", [1.0])
    spec.unique_key = "report:2026-11"
    results = await asyncio.gather(*(pg_store.enqueue_many([spec]) for _ in range(50)))
    assert len({job.id for [job] in results}) == 1
    [job] = results[0]

    async def done() -> bool:
        return (await pg_store.get(job.id)).state is JobState.SUCCEEDED

    await wait_for(done, 20, message="the one job to run")
    assert pg_workers.trace_lines() == [f"{job.id} start", f"{job.id} end"]
    assert len(await all_jobs(pg_store)) == 1
    worker.send_signal(signal.SIGTERM)
    assert await wait_exit(worker) == 0


# -- the maintenance leader dies ------------------------------------------------------------


async def test_when_the_leader_is_killed_the_other_worker_reaps_its_job(
        pg_workers: Workers, pg_store: Store, wait_for: WaitFor) -> None:
    lease = 3.0
    sweep = lease / 4  # the reaper's interval (worker/services.py)
    first = pg_workers.start(lease=lease)
    await wait_for(tolerant(lambda: _registered(pg_store)), 30, message="the first worker")

    async def led_by(pid: int) -> bool:
        holder = await leader_holder(pg_workers.url)
        return holder is not None and (await worker_ids_by_pid(pg_store)).get(pid) == holder

    await wait_for(lambda: led_by(first.pid), 10, message="the first worker to lead")
    [job] = await pg_store.enqueue_many([accapp.app.spec_for("acc.hang_first")])

    async def held_by_first() -> bool:
        now = await pg_store.get(job.id)
        return now.state is JobState.RUNNING and now.worker_id == (
            await worker_ids_by_pid(pg_store)).get(first.pid)

    await wait_for(held_by_first, 20, message="the leader to hold the job")
    second = pg_workers.start(lease=lease)
    await wait_for(tolerant(lambda: _registered(pg_store, 2)), 30, message="the second worker")
    second_id = (await worker_ids_by_pid(pg_store))[second.pid]
    assert await led_by(first.pid), "the second worker took the lock from a live leader"

    os.kill(first.pid, signal.SIGKILL)
    killed_at = time.time()
    first.wait(10)
    # The killed session's lock is freed as its socket closes: the next sweep wins it.
    await wait_for(lambda: led_by(second.pid), lease, message="the survivor to lead")

    async def reaped() -> bool:
        return any(a.outcome is Outcome.LOST for a in await pg_store.attempts(job.id))

    await wait_for(reaped, 3 * lease, interval=0.05, message="the job to be reaped")
    [lost, *_] = await pg_store.attempts(job.id)
    assert lost.ended_at is not None
    # Dead once silent for a lease; the survivor sweeps every lease/4.
    took = lost.ended_at - killed_at
    assert took <= lease + sweep + 1.0, f"reaped {took:.2f}s after the kill"
    assert lost.evidence is not None
    assert lost.evidence["pid"] == first.pid

    async def finished() -> bool:
        return (await pg_store.get(job.id)).state is JobState.SUCCEEDED

    await wait_for(finished, 20, message="the survivor to run the retry")
    attempts = await pg_store.attempts(job.id)
    assert [a.outcome for a in attempts] == [Outcome.LOST, Outcome.SUCCEEDED]
    assert attempts[1].worker_id == second_id
    second.send_signal(signal.SIGTERM)
    assert await wait_exit(second) == 0
