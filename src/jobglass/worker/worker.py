"""The worker: claim → start → run → record → emit, plus its heartbeat and reaper.

Shutdown (`request_stop`): stop claiming, let in-flight jobs finish for up to
`shutdown_timeout`, then put the rest back as `interrupted` (no retry spent) and
return. A second request skips the wait.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from jobglass.app import App, Context
from jobglass.model import DEFAULT_LEASE, Job, JobState, Outcome, WorkerInfo
from jobglass.observe import events as ev
from jobglass.observe.joblog import OutputCapture
from jobglass.observe.logs import get_logger
from jobglass.observe.observer import Observer
from jobglass.observe.scope import JobScope
from jobglass.store import Report, Store
from jobglass.store.rules import target_state
from jobglass.worker.completer import Completer
from jobglass.worker.execute import Executor, Running
from jobglass.worker.minute_stats import MinuteCounter
from jobglass.worker.outage_backoff import OutageBackoff
from jobglass.worker.services import Heartbeat, Pruner, Reaper
from jobglass.worker.threads import SyncPool

log = get_logger("jobglass.worker")

EXIT_RECYCLE = 75  # a hung sync task: ask the supervisor for a fresh process


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    queues: tuple[str, ...] = ()  # empty: every queue
    concurrency: int = 10
    allow_shell: bool = False
    heartbeat: float = 1.0  # seconds between heartbeats
    lease: float = DEFAULT_LEASE  # silent this long: dead, and its jobs are reaped
    shutdown_timeout: float = 30.0
    grace: float = 5.0  # a sync task's time to honour cancellation before its thread is dropped
    poll: float = 0.5  # longest idle wait between claims (wake-ups usually come sooner)
    reap: bool = True
    # Finished jobs (with attempts and logs) older than this are deleted by the
    # maintenance leader; None keeps everything.
    prune_after: float | None = 14 * 86400.0
    recycle_on_hung: bool = False  # exit EXIT_RECYCLE when a sync task had to be abandoned

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.lease <= self.heartbeat:
            raise ValueError("the lease must be longer than the heartbeat interval")


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(self, app: App, settings: WorkerSettings | None = None, *,
                 observer: Observer | None = None, worker_id: str | None = None,
                 scope: Callable[[Store], JobScope] | None = None) -> None:
        self.app = app
        self._make_scope = scope or (lambda store: JobScope())
        self.settings = settings or WorkerSettings()
        self.observer = observer or app.observer
        self.id = worker_id or new_worker_id()
        self.running: dict[int, Running] = {}
        self.exit_code = 0
        self.stale_reports = 0
        self._stopping = asyncio.Event()
        self._hurry = asyncio.Event()
        self._slot_free = asyncio.Event()
        self._pool = SyncPool(self.settings.concurrency)
        self._executor = Executor(app, self._pool, grace=self.settings.grace,
                                  on_hung=self._on_hung)
        self._store: Store | None = None
        self._completer: Completer  # set by `run`, before the first claim
        self.minute_stats = MinuteCounter()
        self.store_failed_at: float | None = None  # the last time a store call failed
        self._claim_backoff = OutageBackoff()

    # -- control -----------------------------------------------------------------
    def request_stop(self, exit_code: int = 0) -> None:
        """First call: graceful stop. Second call: stop now."""
        if self._stopping.is_set():
            self._hurry.set()
            return
        self.exit_code = exit_code
        self._stopping.set()
        self._slot_free.set()

    def store_answered(self) -> None:
        """The store works again after failing: the claim loop and the result writer
        stop waiting out their backoff (up to 5 s) and try now."""
        self._claim_backoff.wake()
        self._completer.backoff.wake()

    def held(self) -> set[int]:
        """Jobs this worker holds: running, or ran and waiting for their report to be
        stored (after an outage these can be many, and they must not run again)."""
        return set(self.running) | self._completer.waiting()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _on_hung(self, job: Job) -> None:
        if self.settings.recycle_on_hung:
            log.error("worker will be replaced: a job left a hung thread", worker_id=self.id,
                      job_id=job.id)
            self.request_stop(EXIT_RECYCLE)

    def emit(self, event: ev.Event) -> None:
        self.observer.handle(event)

    # -- the run -----------------------------------------------------------------
    async def run(self) -> int:
        # Every task started below inherits this: its log lines name the worker.
        structlog.contextvars.bind_contextvars(worker_id=self.id)
        store = self._store = await self.app.astore()
        s = self.settings
        now = time.time()
        await store.register_worker(WorkerInfo(
            id=self.id, host=socket.gethostname(), pid=os.getpid(), queues=list(s.queues),
            started_at=now, last_heartbeat=now, state="running", lease=s.lease))
        self.emit(ev.WorkerStarted(self.id, list(s.queues), s.concurrency))
        self.scope = self._make_scope(store)
        sink = self.scope.sink
        completer = Completer(store, self._recorded,
                              before_write=sink.flush if sink is not None else None,
                              after_write=self._slot_free.set)
        services = [asyncio.create_task(completer.run(), name="completer"),
                    asyncio.create_task(Heartbeat(self, store).run(), name="heartbeat")]
        if s.reap:
            services.append(asyncio.create_task(Reaper(self, store).run(), name="reaper"))
        if s.reap and s.prune_after:
            services.append(asyncio.create_task(Pruner(self, store).run(), name="pruner"))
        capture = OutputCapture()
        if sink is not None:
            services.append(asyncio.create_task(sink.run(), name="job-logs"))
            capture.install()
        self._completer = completer
        try:
            await self._claim_loop(store)
            await self._drain()
            await completer.drain()
            if sink is not None:
                await sink.flush()
            await Heartbeat(self, store).save_stats()
        finally:
            capture.remove()
            for service in services:
                service.cancel()
            await asyncio.gather(*services, return_exceptions=True)
            try:
                await store.stop_worker(self.id)
            except Exception as exc:
                log.warning("could not mark the worker stopped", worker_id=self.id, error=str(exc))
            self._pool.shutdown()
            self.emit(ev.WorkerStopped(self.id, "recycle" if self.exit_code else "shutdown"))
        return self.exit_code

    async def _claim_loop(self, store: Store) -> None:
        s = self.settings
        backoff = self._claim_backoff
        while not self.stopping:
            free = self._free_slots()
            if free <= 0:
                self._slot_free.clear()
                await self._slot_free.wait()
                await asyncio.sleep(0)  # let sibling jobs that finish together free their slots
                continue
            try:
                # Half the slots a claim: the next batch is claimed while this one runs.
                limit = min(free, max(1, s.concurrency // 2))
                jobs = await store.claim(self.id, s.queues, limit, allow_shell=s.allow_shell)
            except Exception as exc:
                self.store_failed_at = time.time()
                log.warning("claim failed, will retry", retry_in_s=backoff.delay, error=str(exc))
                await self._wait_or_stop(backoff.wait())
                continue
            backoff.reset()
            for job in jobs:
                self._start(job)
            if len(jobs) < limit:
                await self._wait_or_stop(store.wait_for_jobs(s.poll))

    @property
    def unrecorded(self) -> int:
        """Jobs that ran whose outcome is not stored yet."""
        return self._completer.backlog

    def _free_slots(self) -> int:
        """Slots for new claims. A job that ran but whose outcome is not stored yet
        keeps holding a slot once there are more than `concurrency` such jobs: a store
        slower than the tasks then slows claiming, instead of piling up finished work
        that a crash would run again."""
        concurrency = self.settings.concurrency
        return min(concurrency, 2 * concurrency - self.unrecorded) - len(self.running)

    async def _wait_or_stop(self, waiting: object) -> None:
        waiter = asyncio.ensure_future(waiting)  # type: ignore[call-overload]
        stopper = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for pending in (waiter, stopper):
            if not pending.done():
                pending.cancel()
        await asyncio.gather(waiter, stopper, return_exceptions=True)

    def _start(self, job: Job) -> None:
        run = Running(job=job, ctx=Context(job, self.id))
        self.running[job.id] = run
        self.minute_stats.claimed(job)
        self.emit(ev.JobClaimed(job, self.id))
        run.task = asyncio.create_task(self._run_one(run), name=f"job-{job.id}")

    async def _run_one(self, run: Running) -> Report | None:
        job = run.job
        run.ctx.emitter = lambda name, fields: self.emit(ev.TaskEvent(job, name, fields))
        try:
            with self.scope.enter(job, run.ctx, self.id) as attempt:
                self.emit(ev.JobStarted(job, self.id))
                report = await self._executor.execute(run)
                attempt.finish(report)
                if attempt.span is not None:
                    run.context = contextvars.copy_context()
        finally:
            self.running.pop(run.job.id, None)
            self._slot_free.set()
        if report is not None:
            self._completer.add(run, report)
        return report

    async def _drain(self) -> None:
        """In-flight jobs get `shutdown_timeout` to finish; the rest are interrupted."""
        tasks = [r.task for r in self.running.values() if r.task is not None]
        if tasks:
            log.info("worker draining: waiting up to shutdown_timeout for running jobs",
                     worker_id=self.id, shutdown_timeout_s=self.settings.shutdown_timeout,
                     running=len(tasks))
            hurry = asyncio.ensure_future(self._hurry.wait())
            everything = asyncio.ensure_future(asyncio.wait(tasks))
            await asyncio.wait({hurry, everything}, timeout=self.settings.shutdown_timeout,
                               return_when=asyncio.FIRST_COMPLETED)
            hurry.cancel()
            everything.cancel()
        left = list(self.running.values())
        for run in left:
            run.stop("interrupted")
        await asyncio.gather(*(r.task for r in left if r.task is not None),
                             return_exceptions=True)

    # -- after the store answered ---------------------------------------------------
    def _recorded(self, run: Running, report: Report, applied: bool) -> None:
        if run.context is not None:
            run.context.run(self._tell_outcome, run, report, applied)
        else:
            self._tell_outcome(run, report, applied)

    def _tell_outcome(self, run: Running, report: Report, applied: bool) -> None:
        job = run.job
        duration = time.time() - run.started
        if not applied:
            self.stale_reports += 1
            self.emit(ev.StaleReport(job.id, report.lease, report.outcome))
            return
        target = target_state(report)
        if report.outcome is Outcome.SUCCEEDED:
            job.state, job.result = JobState.SUCCEEDED, report.result
            self.minute_stats.ended(job, succeeded=True, retried=False)
            self.emit(ev.JobSucceeded(job, duration))
        elif report.outcome is Outcome.INTERRUPTED:
            job.state = JobState.QUEUED
            self.emit(ev.JobInterrupted(job, duration))
        elif report.outcome is Outcome.CANCELLED:
            job.state = JobState.CANCELLED
            self.emit(ev.JobCancelled(job, report.reason, duration))
        elif target is JobState.QUEUED and report.retry_at is not None:
            job.state, job.error = JobState.QUEUED, report.error_message
            self.minute_stats.ended(job, succeeded=False, retried=True)
            self.emit(ev.JobRetrying(job, report.outcome, report.error_type,
                                     report.error_message, report.retry_at, duration))
        else:
            job.state, job.error = JobState.FAILED, report.error_message
            self.minute_stats.ended(job, succeeded=False, retried=False)
            self.emit(ev.JobFailed(job, report.outcome, report.error_type,
                                   report.error_message, duration))

    def progress_snapshot(self) -> Sequence[Running]:
        return list(self.running.values())
