"""The worker's long-running services: heartbeat and reaper. Each is one loop that
logs and survives store errors, and stops when its task is cancelled."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from jobglass.model import Outcome
from jobglass.observe import events as ev
from jobglass.observe.logs import get_logger
from jobglass.store import Progress, Report, Store
from jobglass.store.cancel import raise_if_cancelled

if TYPE_CHECKING:
    from jobglass.worker.worker import Worker

log = get_logger("jobglass.worker")


class Heartbeat:
    """Tells the store the worker lives, saves progress, and hears of cancels and of
    jobs the worker no longer holds (reaped while it was frozen, say)."""

    def __init__(self, worker: Worker, store: Store) -> None:
        self.worker = worker
        self.store = store
        self.failing = False  # the last beat did not reach the store

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.worker.settings.heartbeat)
            await self.beat()
            raise_if_cancelled()

    async def beat(self) -> None:
        began = time.time()
        runs = self.worker.progress_snapshot()
        progress = [Progress(r.job.id, r.job.lease or "", r.ctx.latest_progress.done,
                             r.ctx.latest_progress.total, r.ctx.latest_progress.message)
                    for r in runs]
        try:
            reply = await self.store.heartbeat(self.worker.id, progress)
        except Exception as exc:
            self.worker.store_failed_at = time.time()
            self.failing = True
            log.warning("heartbeat failed", worker_id=self.worker.id, error=str(exc))
            return
        if self.failing:
            self.failing = False
            self.worker.store_answered()
        await self.save_stats()
        self.worker.emit(ev.WorkerHeartbeat(self.worker.id, len(runs)))
        for run in runs:
            if run.ctx.latest_progress.done is not None:
                p = run.ctx.latest_progress
                self.worker.emit(ev.JobProgress(run.job, p.done, p.total, p.message))
        for job_id in reply.cancel:
            target = self.worker.running.get(job_id)
            if target is not None:
                log.info("cancel requested, stopping the job", job_id=job_id)
                target.stop("cancelled")
        for job_id in reply.lost:
            target = self.worker.running.get(job_id)
            if target is not None:
                log.warning("job no longer held by this worker; abandoning it", job_id=job_id,
                            worker_id=self.worker.id)
                target.stop("lost")
        await self.put_back_unlisted(reply.unlisted, began)

    async def put_back_unlisted(self, unlisted: list[tuple[int, str, float]], began: float
                                ) -> None:
        """Jobs the store says we run but we never started: a claim whose reply was lost.
        Claims younger than a few heartbeats may simply still be on their way to us;
        jobs that ran here and wait for their report to be stored are ours too."""
        if not unlisted:
            return  # nearly every beat: no need to gather what this worker holds
        grace = max(5.0, 3 * self.worker.settings.heartbeat)
        held = self.worker.held()
        orphans = [Report(job_id, lease, Outcome.INTERRUPTED,
                          reason="claimed but never started by this worker")
                   for job_id, lease, started in unlisted
                   if started < began - grace and job_id not in held]
        if not orphans:
            return
        try:
            applied = await self.store.finish_many(orphans)
        except Exception as exc:
            log.warning("could not put back unstarted jobs", error=str(exc))
            return
        for report, ok in zip(orphans, applied, strict=True):
            if ok:
                log.warning("a claimed job never reached this worker; put back in its queue",
                            job_id=report.job_id, worker_id=self.worker.id)


    async def save_stats(self) -> None:
        rows = self.worker.minute_stats.take()
        if not rows:
            return
        try:
            await self.store.record_stats(rows)
        except Exception as exc:
            self.worker.minute_stats.put_back(rows)
            log.warning("could not save per-minute figures", error=str(exc))


class Reaper:
    """Runs on the maintenance leader: takes running jobs back from dead workers."""

    def __init__(self, worker: Worker, store: Store) -> None:
        self.worker = worker
        self.store = store
        self.shortest_lease = worker.settings.lease  # ours, or a running peer's if shorter

    @property
    def interval(self) -> float:
        # A pass every quarter of the shortest lease in the fleet: a worker run with a
        # short lease is found dead soon after its own lease runs out, not ours.
        return min(max(self.shortest_lease / 4, 0.1), 10.0)

    async def run(self) -> None:
        while True:
            await self.sweep()
            raise_if_cancelled()
            await asyncio.sleep(self.interval)

    async def sweep(self, now: float | None = None) -> None:
        when = time.time() if now is None else now
        failed_at = self.worker.store_failed_at
        lease = self.worker.settings.lease
        if failed_at is not None and when - failed_at < lease:
            # The store was just unreachable for us too: every worker's heartbeat may be
            # stale through no fault of its own. Give them one lease to catch up.
            return
        try:
            if not await self.store.try_lead(self.worker.id):
                return
            reaped = await self.store.reap(self.worker.settings.lease, now=now)
            peers = await self.store.workers()
        except Exception as exc:
            self.worker.store_failed_at = time.time()
            log.warning("reaper failed", worker_id=self.worker.id, error=str(exc))
            return
        self.shortest_lease = min([lease, *(w.lease for w in peers
                                            if w.state == "running" and w.lease)])
        lost: dict[str, dict[str, object]] = {}
        for item in reaped:
            evidence = item.attempt.evidence or {}
            worker_id = evidence.get("worker_id")
            if isinstance(worker_id, str):
                lost.setdefault(worker_id, dict(evidence))
            self.worker.emit(ev.JobReaped(item.job, item.attempt, item.requeued))
        for worker_id, evidence in lost.items():
            self.worker.emit(ev.WorkerLost(worker_id, evidence))


class Pruner:
    """Runs on the maintenance leader: deletes finished jobs past their retention."""

    interval = 60.0

    def __init__(self, worker: Worker, store: Store) -> None:
        self.worker = worker
        self.store = store

    async def run(self) -> None:
        while True:
            await self.sweep()
            raise_if_cancelled()
            await asyncio.sleep(self.interval)

    async def sweep(self, now: float | None = None) -> int:
        keep = self.worker.settings.prune_after
        if not keep:
            return 0
        try:
            if not await self.store.try_lead(self.worker.id):
                return 0
            deleted = await self.store.prune((time.time() if now is None else now) - keep)
        except Exception as exc:
            log.warning("pruner failed", worker_id=self.worker.id, error=str(exc))
            return 0
        if deleted:
            log.info("pruned finished jobs", deleted=deleted, older_than_s=keep)
        return deleted
