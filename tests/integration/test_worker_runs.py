"""A real `Worker` in this process against a real database: execution, retries,
timeouts, cancellation, shell jobs, stale reports, events."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import jobglass
from jobglass import App, Context, DontRetry, JobState, Outcome, Recorder, Retry, WorkerSettings
from jobglass.observe import events as ev
from jobglass.store import JobFilter, Report, Store

WaitFor = Callable[..., Awaitable[None]]
Start = Callable[..., Awaitable[jobglass.Worker]]


class Flaky(Exception):
    pass


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[App]:
    application = App(database_url)
    yield application
    await application.aclose()


@pytest.fixture
async def start(app: App) -> AsyncIterator[Start]:
    """Start a worker on `app` in this loop; every one is stopped at the end."""
    running: list[tuple[jobglass.Worker, asyncio.Task[int]]] = []

    async def _start(**overrides: Any) -> jobglass.Worker:
        settings = {"concurrency": 4, "heartbeat": 0.05, "lease": 5.0, "grace": 0.2,
                    "shutdown_timeout": 1.0, **overrides}
        worker = jobglass.Worker(app, WorkerSettings(**settings))
        running.append((worker, asyncio.create_task(worker.run())))
        return worker

    yield _start
    for worker, task in running:
        worker.request_stop()
        worker.request_stop()
        await asyncio.wait_for(task, 10)


async def _ended(store: Store, job_id: int) -> bool:
    return (await store.get(job_id)).state in jobglass.model.TERMINAL


async def test_async_and_sync_tasks_store_their_results(app: App, start: Start) -> None:
    @app.task
    async def add(a: int, b: int) -> int:
        return a + b

    @app.task
    def shout(ctx: Context, word: str) -> str:
        return f"{word.upper()} from job {ctx.job_id} attempt {ctx.attempt}"

    first = await add.aenqueue(2, 3)
    second = await shout.aenqueue(word="hi")
    await start()
    assert await first.aresult(timeout=10) == 5
    assert await second.aresult(timeout=10) == f"HI from job {second.id} attempt 1"


async def test_failures_retry_with_backoff_then_fail_with_traceback(
        app: App, start: Start, wait_for: WaitFor) -> None:
    @app.task(retries=2, backoff=0.01, backoff_cap=0.02)
    def broken() -> None:
        raise Flaky("still broken")

    handle = await broken.aenqueue()
    await start()
    with pytest.raises(jobglass.JobFailed, match="still broken"):
        await handle.aresult(timeout=10)
    store = await app.astore()
    attempts = await store.attempts(handle.id)
    assert [a.outcome for a in attempts] == [Outcome.FAILED] * 3
    assert attempts[-1].error_type == "Flaky"
    assert "raise Flaky" in (attempts[-1].traceback or "")
    job = await store.get(handle.id)
    assert job.errors == 3
    assert job.state is JobState.FAILED


async def test_arguments_that_do_not_fit_the_task_fail_without_retries(
        app: App, start: Start, wait_for: WaitFor) -> None:
    @app.task(retries=3, backoff=0.01, backoff_cap=0.02)
    def fetch(url: str) -> str:
        return url

    @app.task(retries=3, backoff=0.01, backoff_cap=0.02)
    async def afetch(ctx: Context, url: str) -> str:
        return url

    @app.task(retries=2, backoff=0.01, backoff_cap=0.02)
    def buggy(url: str) -> None:
        len(5)  # type: ignore[arg-type]  # a TypeError of the task's own: retried

    store = await app.astore()
    wrong = await store.enqueue_many([app.spec_for(fetch.name),
                                      app.spec_for(afetch.name, kwargs={"uri": "x"})])
    own = (await store.enqueue_many([app.spec_for(buggy.name, ["x"])]))[0]
    await start()

    async def ended() -> bool:
        return all([await _ended(store, j.id) for j in [*wrong, own]])

    await wait_for(ended)
    for job in wrong:
        attempts = await store.attempts(job.id)
        assert [a.outcome for a in attempts] == [Outcome.FAILED]
        assert attempts[0].error_type == "DontRetry"
        assert "do not fit" in (attempts[0].error_message or "")
        assert "url: str" in (attempts[0].error_message or "")
    assert [a.error_type for a in await store.attempts(own.id)] == ["TypeError"] * 3


async def test_a_task_can_ask_for_its_retry_delay_or_for_no_retry(app: App, start: Start) -> None:
    @app.task(retries=5)
    def later(ctx: Context) -> int:
        if ctx.attempt == 1:
            raise Retry(delay=0.3)
        return ctx.attempt

    @app.task(retries=5)
    def never() -> None:
        raise DontRetry("bad input, retrying will not help")

    @app.task(retries=5, dont_retry_on=(KeyError,))
    def missing() -> None:
        raise KeyError("nope")

    @app.task(retries=5, retry_on=(Flaky,))
    def other() -> None:
        raise ValueError("not in retry_on")

    delayed = await later.aenqueue()
    handles = [await t.aenqueue() for t in (never, missing, other)]
    await start()
    assert await delayed.aresult(timeout=10) == 2
    store = await app.astore()
    first, second = await store.attempts(delayed.id)
    assert second.started_at - (first.ended_at or 0) >= 0.3 * 0.9
    for handle in handles:
        with pytest.raises(jobglass.JobFailed):
            await handle.aresult(timeout=10)
        assert len(await store.attempts(handle.id)) == 1


async def test_async_timeout_ends_the_attempt_as_timeout(app: App, start: Start) -> None:
    @app.task(timeout=0.2, retries=0)
    async def slow() -> None:
        await asyncio.sleep(60)

    handle = await slow.aenqueue()
    await start()
    with pytest.raises(jobglass.JobFailed, match="timed out"):
        await handle.aresult(timeout=10)
    store = await app.astore()
    assert [a.outcome for a in await store.attempts(handle.id)] == [Outcome.TIMEOUT]


async def test_hung_sync_task_loses_its_thread_not_the_slot(app: App, start: Start) -> None:
    release = threading.Event()

    @app.task(timeout=0.2, retries=0)
    def hang() -> None:
        release.wait(60)  # ignores ctx.cancelled on purpose

    @app.task
    def quick() -> str:
        return "ran"

    hung = await hang.aenqueue()
    worker = await start(concurrency=1, grace=0.1)
    with pytest.raises(jobglass.JobFailed, match="timed out"):
        await hung.aresult(timeout=10)
    after = await quick.aenqueue()
    assert await after.aresult(timeout=10) == "ran"  # the single slot was given back
    assert worker._pool.abandoned_count == 1
    release.set()


async def test_cancel_a_running_job(app: App, start: Start, wait_for: WaitFor) -> None:
    started = asyncio.Event()

    @app.task
    async def long_async() -> None:
        started.set()
        await asyncio.sleep(60)

    @app.task
    def long_sync(ctx: Context) -> None:
        ctx.wait_cancelled(60)  # a cooperative sync task

    async_job = await long_async.aenqueue()
    sync_job = await long_sync.aenqueue()
    await start()
    store = await app.astore()

    async def both_running() -> bool:
        states = [(await store.get(h.id)).state for h in (async_job, sync_job)]
        return states == [JobState.RUNNING] * 2

    await wait_for(both_running, 10)
    for handle in (async_job, sync_job):
        assert (await store.cancel(handle.id, "no longer needed")).state is JobState.RUNNING

    async def both_cancelled() -> bool:
        states = [(await store.get(h.id)).state for h in (async_job, sync_job)]
        return states == [JobState.CANCELLED] * 2

    await wait_for(both_cancelled, 10)
    for handle in (async_job, sync_job):
        assert [a.outcome for a in await store.attempts(handle.id)] == [Outcome.CANCELLED]
        assert (await store.get(handle.id)).reason == "no longer needed"


async def test_progress_reaches_the_store(app: App, start: Start, wait_for: WaitFor) -> None:
    @app.task
    def stepper(ctx: Context) -> None:
        ctx.progress(3, 10, "three of ten")
        ctx.wait_cancelled(60)

    handle = await stepper.aenqueue()
    await start()
    store = await app.astore()

    async def reported() -> bool:
        return (await store.get(handle.id)).progress_done == 3

    await wait_for(reported, 10)
    job = await store.get(handle.id)
    assert (job.progress_total, job.progress_message) == (10, "three of ten")


async def test_arguments_must_be_json(app: App) -> None:
    @app.task
    def takes(value: Any) -> None:
        return None

    with pytest.raises(TypeError, match="JSON"):
        await takes.aenqueue(value=object())
    with pytest.raises(TypeError, match="JSON"):
        await takes.aenqueue({1, 2})
    with pytest.raises(TypeError, match="JSON"):
        await takes.aenqueue(value=[float("nan")])
    store = await app.astore()
    assert (await store.list_jobs()).jobs == []


async def test_unique_key_returns_the_active_job(app: App) -> None:
    @app.task
    def report(day: str) -> None:
        return None

    first = await report.with_options(unique_key="report:monday").aenqueue(day="monday")
    again = await report.with_options(unique_key="report:monday").aenqueue(day="monday")
    assert again.id == first.id


async def test_shell_jobs_run_only_where_allowed(app: App, start: Start,
                                                 wait_for: WaitFor) -> None:
    ok = await app.asubmit("echo hello from the shell")
    bad = await app.asubmit("echo about to fail; exit 3")
    await start(allow_shell=False)
    store = await app.astore()
    worker = await start(allow_shell=True, concurrency=1)
    assert worker.settings.allow_shell
    result = await ok.aresult(timeout=10)
    assert result["exit_code"] == 0
    assert "hello from the shell" in result["output"]
    with pytest.raises(jobglass.JobFailed, match="exit code 3"):
        await bad.aresult(timeout=10)
    attempts = await store.attempts(ok.id)
    assert len(attempts) == 1
    assert attempts[0].worker_id == worker.id  # only the shell-enabled worker took it


async def test_a_late_report_is_ignored_counted_and_emitted(app: App, start: Start,
                                                          wait_for: WaitFor) -> None:
    gate = asyncio.Event()

    @app.task
    async def waits() -> str:
        await gate.wait()
        return "late"

    recorder = Recorder()
    app.observer.add(recorder)
    handle = await waits.aenqueue()
    worker = await start(heartbeat=30.0, lease=60.0)
    store = await app.astore()

    async def running() -> bool:
        return (await store.get(handle.id)).state is JobState.RUNNING

    await wait_for(running, 10)
    reaped = await store.reap(60.0, now=time.time() + 3600)  # as if the worker went silent
    assert [r.job.id for r in reaped] == [handle.id]
    gate.set()
    await wait_for(lambda: worker.stale_reports == 1, 10)
    job = await store.get(handle.id)
    assert job.state is JobState.QUEUED  # the reaper's retry stands; "late" was not stored
    assert job.result is None
    stale = recorder.of_type(ev.StaleReport)
    assert len(stale) == 1
    assert isinstance(stale[0], ev.StaleReport)
    assert stale[0].job_id == handle.id


async def test_events_for_one_job_arrive_in_order(app: App, start: Start) -> None:
    @app.task
    def fine() -> int:
        return 1

    recorder = Recorder()
    app.observer.add(recorder)
    handle = await fine.aenqueue()
    await start()
    await handle.aresult(timeout=10)
    kinds = [type(e).__name__ for e in recorder.events
             if getattr(getattr(e, "job", None), "id", None) == handle.id]
    assert kinds == ["JobEnqueued", "JobClaimed", "JobStarted", "JobSucceeded"]


async def test_a_raising_observer_does_not_fail_the_job(app: App, start: Start) -> None:
    class Broken(jobglass.Observer):
        def on_job_started(self, event: ev.Event) -> None:
            raise RuntimeError("observer bug")

    @app.task
    def fine() -> int:
        return 7

    app.observer.add(Broken())
    handle = await fine.aenqueue()
    await start()
    assert await handle.aresult(timeout=10) == 7
    assert app.observer.errors["Broken"] == 1


async def test_concurrent_first_use_opens_one_store(app: App) -> None:
    first, second = await asyncio.gather(app.astore(), app.astore())
    assert first is second


async def test_workers_record_per_minute_figures(app: App, start: Start,
                                                 wait_for: WaitFor) -> None:
    @app.task(queue="mail")
    def ok() -> None:
        return None

    @app.task(queue="mail", retries=0)
    def bad() -> None:
        raise ValueError("no")

    handles = [await ok.aenqueue() for _ in range(3)] + [await bad.aenqueue()]
    await start()
    store = await app.astore()
    since = time.time() - 120

    async def recorded() -> bool:
        rows = await store.read_stats(since, queue="mail")
        return (sum(r.succeeded for r in rows), sum(r.failed for r in rows)) == (3, 1)

    await wait_for(recorded, 10)
    rows = await store.read_stats(since, queue="mail")
    assert sum(sum(r.wait) for r in rows) == len(handles)


async def test_the_reaper_holds_off_for_a_lease_after_its_own_store_outage(app: App) -> None:
    from jobglass.worker.services import Reaper

    store = await app.astore()
    now = time.time()
    await store.register_worker(jobglass.model.WorkerInfo(
        id="quiet", host="h", pid=1, queues=[], started_at=now - 100, last_heartbeat=now - 100,
        state="running"))
    await store.enqueue_many([jobglass.JobSpec(task="t")])
    job = (await store.claim("quiet", [], 1))[0]
    leader = jobglass.Worker(app, WorkerSettings(lease=10.0))
    leader.store_failed_at = now  # the store was unreachable for the reaper too
    await Reaper(leader, store).sweep(now=now + 5)
    assert (await store.get(job.id)).state is JobState.RUNNING  # no heartbeat could land
    await Reaper(leader, store).sweep(now=now + 11)
    assert (await store.get(job.id)).state is JobState.QUEUED  # a full lease later: reaped


async def test_a_claim_whose_reply_was_lost_is_put_back(app: App, start: Start,
                                                         wait_for: WaitFor) -> None:
    worker = await start(queues=("default",))
    store = await app.astore()
    await store.enqueue_many([jobglass.JobSpec(task="t", queue="elsewhere")],
                             now=time.time() - 120)
    # As if the worker's claim committed and the connection died before the reply came.
    orphan = (await store.claim(worker.id, ["elsewhere"], 1, now=time.time() - 60))[0]

    async def put_back() -> bool:
        return (await store.get(orphan.id)).state is JobState.QUEUED

    await wait_for(put_back, 10)
    attempts = await store.attempts(orphan.id)
    assert [a.outcome for a in attempts] == [Outcome.INTERRUPTED]
    assert (await store.get(orphan.id)).errors == 0  # no retry spent on our mistake


async def test_a_job_whose_report_waits_to_be_stored_is_not_put_back(app: App) -> None:
    # After an outage the store still shows jobs running on this worker that already
    # ran here; their reports wait in the result writer. They are not lost claims:
    # putting them back would run them twice (seen under load in a restart test).
    from jobglass.worker.completer import Completer
    from jobglass.worker.execute import Running
    from jobglass.worker.services import Heartbeat

    store = await app.astore()
    worker = jobglass.Worker(app, WorkerSettings())
    await store.enqueue_many([jobglass.JobSpec(task="t")], now=time.time() - 120)
    job = (await store.claim(worker.id, [], 1, now=time.time() - 60))[0]
    assert job.lease is not None
    worker._completer = Completer(store, lambda *_: None)
    worker._completer.add(Running(job=job, ctx=Context(job, worker.id)),
                          Report(job.id, job.lease, Outcome.SUCCEEDED))
    await Heartbeat(worker, store).put_back_unlisted(
        [(job.id, job.lease, time.time() - 60)], time.time())
    assert (await store.get(job.id)).state is JobState.RUNNING
    assert [a.outcome for a in await store.attempts(job.id)] == [None]


async def test_the_pruner_deletes_finished_jobs_past_their_retention(app: App) -> None:
    from jobglass.worker.services import Pruner

    store = await app.astore()
    old, fresh = await store.enqueue_many([jobglass.JobSpec(task="a"), jobglass.JobSpec(task="b")])
    await store.cancel(old.id, now=1000.0)
    await store.cancel(fresh.id)
    leader = jobglass.Worker(app, WorkerSettings(prune_after=86400.0))
    assert await Pruner(leader, store).sweep() == 1
    with pytest.raises(jobglass.JobNotFound):
        await store.get(old.id)
    assert (await store.get(fresh.id)).state is JobState.CANCELLED
    keep_all = jobglass.Worker(app, WorkerSettings(prune_after=None))
    assert await Pruner(keep_all, store).sweep() == 0


async def test_a_cancel_that_comes_back_as_a_store_error_still_stops_a_service(
        app: App, wait_for: WaitFor, monkeypatch: pytest.MonkeyPatch) -> None:
    # psycopg may close a connection whose query would not stop on cancel; the rollback
    # then fails and the cancel surfaces as StoreUnavailable, which the services log and
    # survive. Each must still stop at once, not after its next sleep (60 s here).
    from jobglass.worker.services import Pruner

    store = await app.astore()
    inside = asyncio.Event()

    async def prune_that_converts(older_than: float) -> int:
        inside.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError as exc:
            raise jobglass.StoreUnavailable("the connection is closed") from exc
        return 0

    monkeypatch.setattr(store, "prune", prune_that_converts)
    task = asyncio.create_task(Pruner(jobglass.Worker(app), store).run())
    await asyncio.wait_for(inside.wait(), 10)
    task.cancel()
    await wait_for(task.done, 5, message="the pruner to stop at the first cancel")
    assert task.cancelled()


async def test_a_slow_store_slows_claiming_instead_of_piling_up_results(
        app: App, start: Start, wait_for: WaitFor, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = 0

    @app.task
    async def quick() -> None:
        nonlocal ran
        ran += 1

    store = await app.astore()
    writes_held = asyncio.Event()
    finish_many = store.finish_many

    async def held(reports: Any, **kwargs: Any) -> list[bool]:
        await writes_held.wait()
        return await finish_many(reports, **kwargs)

    monkeypatch.setattr(store, "finish_many", held)
    ids = [j.id for j in await store.enqueue_many([app.spec_for(quick.name)] * 40)]
    worker = await start(concurrency=4)

    def parked() -> bool:  # jobs ran, none is running, the claim loop waits for a slot
        return ran > 0 and not worker.running and not worker._slot_free.is_set()

    await wait_for(parked)
    # Four jobs may wait for the store beyond the four slots, no more.
    assert ran == 8
    assert worker.unrecorded == 8
    queued = await store.list_jobs(JobFilter(states=[JobState.QUEUED]))
    assert len(queued.jobs) == 32
    writes_held.set()

    async def all_done() -> bool:
        return all([await _ended(store, i) for i in ids])

    await wait_for(all_done)
    assert ran == 40


async def test_the_reaper_passes_as_often_as_the_shortest_lease_among_running_workers(
        app: App) -> None:
    from jobglass.worker.services import Reaper

    store = await app.astore()
    now = time.time()
    leader = jobglass.Worker(app, WorkerSettings(lease=30.0))
    reaper = Reaper(leader, store)
    assert reaper.interval == 7.5
    await store.register_worker(jobglass.model.WorkerInfo(
        id="brisk", host="h", pid=1, queues=[], started_at=now, last_heartbeat=now,
        state="running", lease=2.0))
    await reaper.sweep(now=now)
    assert reaper.interval == 0.5  # its death is seen ~2 s after, not up to 9.5 s
    await store.stop_worker("brisk")
    await reaper.sweep(now=now)
    assert reaper.interval == 7.5


async def test_the_first_heartbeat_after_a_failed_one_wakes_the_waiting_loops(
        app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    # The claim loop and the result writer back off up to 5 s while the store fails;
    # the heartbeat that gets through again ends their waits at once.
    from jobglass.worker.completer import Completer
    from jobglass.worker.services import Heartbeat

    store = await app.astore()
    worker = jobglass.Worker(app, WorkerSettings())
    worker._completer = Completer(store, lambda *_: None)
    now = time.time()
    await store.register_worker(jobglass.model.WorkerInfo(
        id=worker.id, host="h", pid=1, queues=[], started_at=now, last_heartbeat=now,
        state="running"))
    real = store.heartbeat
    calls = 0

    async def down_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise jobglass.StoreUnavailable("the server restarted")
        return await real(*args, **kwargs)

    monkeypatch.setattr(store, "heartbeat", down_once)
    woken: list[bool] = []
    monkeypatch.setattr(worker, "store_answered", lambda: woken.append(True))
    beat = Heartbeat(worker, store)
    await beat.beat()
    assert woken == []
    await beat.beat()
    assert woken == [True]
    await beat.beat()
    assert woken == [True]  # once per recovery, not every beat
