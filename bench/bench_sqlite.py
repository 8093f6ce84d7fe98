"""SQLite backend benchmarks. They print figures; nothing asserts on time.

    .venv/bin/python -m bench.bench_sqlite [--quick] [--only enqueue,drain,latency]

1. enqueue: batches of 1,000 through `app.enqueue_specs` and `store.enqueue_many`,
   and one job at a time through `task.enqueue` / `task.aenqueue`.
2. drain: N no-op jobs enqueued first, then one `python -m jobglass worker`
   process (concurrency 100) started; timed from its start until no job is left
   queued or running, and from the first job's started_at to the last one's
   finished_at (start-up excluded). Async and sync no-op tasks; also the same
   drain with the Worker inside this process.
3. idle latency in one process (like `jobglass up`): a Worker on this event loop,
   jobs enqueued one at a time from the same loop, each after the previous one
   finished; latency = started_at - created_at, as stored.
4. idle latency across processes: the worker in a child process, which learns of
   new jobs by polling SQLite's data_version; same measurement.

Targets (issue, 2-core machine): drain >= 6,000 jobs/s in one worker process,
batch enqueue >= 20,000 jobs/s, idle latency p50 <= 5 ms in one process and
<= 50 ms across processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jobglass
from bench.common import (
    TempDB,
    WorkerProcess,
    job_span,
    ms,
    percentile,
    print_table,
    temp_db,
)
from bench.tasks import NOOP_ASYNC, NOOP_SYNC, make_app
from jobglass.model import JobState
from jobglass.model.states import TERMINAL
from jobglass.observe import events as ev
from jobglass.store import Store

BATCH = 1_000
WORKER_CONCURRENCY = 100
POLL = 0.05  # how often the drain bench checks whether the child worker is done


@dataclass(frozen=True, slots=True)
class Sizes:
    enqueue_batched: int
    enqueue_single: int
    drain: int
    latency_in_process: int
    latency_cross_process: int
    repeat: int = 1  # drain runs per configuration

    @classmethod
    def pick(cls, quick: bool, repeat: int = 1) -> Sizes:
        if quick:
            return cls(10_000, 2_000, 5_000, 500, 100, repeat)
        return cls(50_000, 2_000, 20_000, 500, 500, repeat)


# -- 1. enqueue --------------------------------------------------------------------
def _specs(app: jobglass.App, n: int) -> list[jobglass.JobSpec]:
    return [app.spec_for(NOOP_ASYNC) for _ in range(n)]


def bench_enqueue(sizes: Sizes) -> None:
    rows: list[tuple[str, int, float, float]] = []

    def add(label: str, n: int, elapsed: float) -> None:
        rows.append((label, n, elapsed, n / elapsed))

    # app.enqueue_specs: the sync API, through the portal loop; building specs included
    with temp_db() as db:
        app = make_app(db.url)
        try:
            app.enqueue_specs(_specs(app, 10))  # open the store and migrate outside the timing
            t0 = time.perf_counter()
            for start in range(0, sizes.enqueue_batched, BATCH):
                app.enqueue_specs(_specs(app, min(BATCH, sizes.enqueue_batched - start)))
            add(f"app.enqueue_specs, batches of {BATCH:,} (incl. spec_for)",
                sizes.enqueue_batched, time.perf_counter() - t0)

            task = app.tasks[NOOP_ASYNC]
            t0 = time.perf_counter()
            for _ in range(sizes.enqueue_single):
                task.enqueue()
            add("task.enqueue(), one at a time (sync)", sizes.enqueue_single,
                time.perf_counter() - t0)
        finally:
            app.close()

    # store.enqueue_many and task.aenqueue on the caller's own loop
    async def on_loop(db: TempDB) -> None:
        app = make_app(db.url)
        store = await app.astore()
        try:
            specs = _specs(app, sizes.enqueue_batched)
            t0 = time.perf_counter()
            for start in range(0, len(specs), BATCH):
                await store.enqueue_many(specs[start:start + BATCH])
            add(f"store.enqueue_many, batches of {BATCH:,} (specs prebuilt)", len(specs),
                time.perf_counter() - t0)

            task = app.tasks[NOOP_ASYNC]
            t0 = time.perf_counter()
            for _ in range(sizes.enqueue_single):
                await task.aenqueue()
            add("await task.aenqueue(), one at a time", sizes.enqueue_single,
                time.perf_counter() - t0)
        finally:
            await app.aclose()

    with temp_db() as db:
        asyncio.run(on_loop(db))

    print_table("1. enqueue (target: batched >= 20,000 jobs/s)",
                ["how", "jobs", "seconds", "jobs/s"], rows)


# -- 2. drain ----------------------------------------------------------------------
def _prefill(db: TempDB, task: str, n: int) -> None:
    async def fill() -> None:
        app = make_app(db.url)
        store = await app.astore()
        try:
            for start in range(0, n, BATCH):
                await store.enqueue_many([app.spec_for(task)
                                          for _ in range(min(BATCH, n - start))])
        finally:
            await app.aclose()

    asyncio.run(fill())


def _pending(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM jobglass_jobs"
                       " WHERE state IN ('queued', 'running')").fetchone()
    return int(row[0])


@dataclass(frozen=True, slots=True)
class DrainResult:
    label: str
    n: int
    succeeded: int
    wall: float  # from process start (or Worker start) until nothing is pending
    startup: float  # from start to the first job's started_at
    span: float  # first started_at to last finished_at

    def row(self) -> tuple[str, int, int, float, float, float, float, float]:
        return (self.label, self.n, self.succeeded, self.wall, self.n / self.wall,
                ms(self.startup), self.span, self.succeeded / self.span if self.span else 0.0)


def drain_in_subprocess(task: str, n: int, timeout: float = 90.0) -> DrainResult:
    with temp_db() as db:
        _prefill(db, task, n)
        worker = WorkerProcess(db.url, concurrency=WORKER_CONCURRENCY)
        try:
            started = worker.start()
            deadline = time.monotonic() + timeout
            # One connection, polled every 50 ms: the poll is cheap next to the worker
            # (polling every 10 ms on a fresh connection cost it ~10% on 2 cores).
            with contextlib.closing(db.connect()) as conn:
                while True:
                    time.sleep(POLL)
                    worker.check_alive()
                    if _pending(conn) == 0:
                        done = time.time()
                        break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{n} jobs not drained in {timeout}s")
        finally:
            worker.stop()
        succeeded, first, last = job_span(db)
    return DrainResult(f"worker process, {task}", n, succeeded, done - started,
                       first - started, last - first)


class _Counter(jobglass.Observer):
    """Counts ended jobs and calls `when_done` once `n` have ended."""

    def __init__(self, n: int, when_done: Callable[[], None]) -> None:
        self.n = n
        self.ended = 0
        self.when_done = when_done

    def _one(self) -> None:
        self.ended += 1
        if self.ended == self.n:
            self.when_done()

    def on_job_succeeded(self, event: ev.JobSucceeded) -> None:
        self._one()

    def on_job_failed(self, event: ev.JobFailed) -> None:
        self._one()


async def drain_in_process_async(db: TempDB, n: int,
                                 concurrency: int = WORKER_CONCURRENCY) -> float:
    """Run a Worker on this loop until `n` jobs ended; return seconds from its start."""
    app = make_app(db.url)
    finished = asyncio.Event()
    settings = jobglass.WorkerSettings(concurrency=concurrency, reap=False)
    worker = jobglass.Worker(app, settings, observer=_Counter(n, finished.set))
    started = time.time()
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.wait({running, asyncio.create_task(finished.wait())},
                           return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()  # raises what stopped it
            raise RuntimeError("the worker stopped before the jobs were done")
        elapsed = time.time() - started
    finally:
        worker.request_stop()
        await asyncio.gather(running, return_exceptions=True)
        await app.aclose()
    return elapsed


def drain_in_process(task: str, n: int) -> DrainResult:
    with temp_db() as db:
        _prefill(db, task, n)
        started = time.time()
        wall = asyncio.run(drain_in_process_async(db, n))
        succeeded, first, last = job_span(db)
    return DrainResult(f"Worker in this process, {task}", n, succeeded, wall,
                       first - started, last - first)


def bench_drain(sizes: Sizes) -> None:
    results: list[DrainResult] = []
    for run in (drain_in_subprocess, drain_in_process):
        for task in (NOOP_ASYNC, NOOP_SYNC):
            results.extend(run(task, sizes.drain) for _ in range(sizes.repeat))
    print_table(f"2. drain, concurrency {WORKER_CONCURRENCY} (target: >= 6,000 jobs/s in one "
                "worker process)",
                ["how", "jobs", "succeeded", "wall s", "wall jobs/s", "start-up ms",
                 "run span s", "span jobs/s"],
                [r.row() for r in results])
    print("   wall: from process/Worker start until nothing is queued or running (checked"
          f" every {ms(POLL):.0f} ms); span: first started_at to last finished_at (start-up"
          " excluded)")


# -- 3 and 4. idle latency ---------------------------------------------------------
@dataclass(slots=True)
class LatencySamples:
    stored: list[float]  # started_at - created_at, from the store
    wall: list[float]  # before the enqueue call until the job's code began (in-process only)


def _gap() -> float:
    """A random pause between jobs so samples do not lock onto a poll's phase."""
    return random.uniform(0.002, 0.012)


class _Watch(jobglass.Observer):
    def __init__(self) -> None:
        self.started: dict[int, float] = {}
        self.ended: dict[int, asyncio.Event] = {}

    def expect(self, job_id: int) -> asyncio.Event:
        return self.ended.setdefault(job_id, asyncio.Event())

    def on_job_started(self, event: ev.JobStarted) -> None:
        self.started[event.job.id] = time.time()

    def on_job_succeeded(self, event: ev.JobSucceeded) -> None:
        self.expect(event.job.id).set()

    def on_job_failed(self, event: ev.JobFailed) -> None:
        self.expect(event.job.id).set()


async def latency_in_process(db: TempDB, n: int, warmup: int = 10) -> LatencySamples:
    app = make_app(db.url)
    # Open the store before the worker starts: two first calls of `App.astore()` racing
    # on one loop each open a store (and can fail with "database is locked").
    store = await app.astore()
    watch = _Watch()
    worker = jobglass.Worker(app, jobglass.WorkerSettings(concurrency=10), observer=watch)
    running = asyncio.create_task(worker.run())
    task = app.tasks[NOOP_ASYNC]
    samples = LatencySamples([], [])
    try:
        for i in range(warmup + n):
            await asyncio.sleep(_gap())
            if running.done():
                running.result()
                raise RuntimeError("the worker stopped")
            before = time.time()
            handle = await task.aenqueue()
            await asyncio.wait_for(watch.expect(handle.id).wait(), 10)
            if i < warmup:
                continue
            job = await store.get(handle.id)
            if job.started_at is None:
                raise RuntimeError(f"job {job.id} has no started_at")
            samples.stored.append(job.started_at - job.created_at)
            samples.wall.append(watch.started[handle.id] - before)
    finally:
        worker.request_stop()
        await asyncio.gather(running, return_exceptions=True)
        await app.aclose()
    return samples


async def _wait_terminal(store: Store, job_id: int, timeout: float = 10.0) -> jobglass.Job:
    deadline = time.monotonic() + timeout
    while True:
        job = await store.get(job_id)
        if job.state in TERMINAL:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job.state} after {timeout}s")
        await asyncio.sleep(0.002)


async def latency_cross_process(url: str, worker: WorkerProcess, n: int, warmup: int = 10
                                ) -> list[float]:
    """started_at - created_at of `n` jobs enqueued here and run by `worker`, each after
    the previous one finished (shared with bench_postgres_worker)."""
    app = make_app(url)
    store = await app.astore()
    samples: list[float] = []
    try:
        deadline = time.monotonic() + 30
        while not any(w.state == "running" for w in await store.workers()):
            worker.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError("the worker process did not register")
            await asyncio.sleep(0.05)
        spec = app.spec_for(NOOP_ASYNC)
        for i in range(warmup + n):
            await asyncio.sleep(_gap())
            (job,) = await store.enqueue_many([spec])
            job = await _wait_terminal(store, job.id)
            if job.state is not JobState.SUCCEEDED:
                raise RuntimeError(f"job {job.id} ended {job.state}: {job.error}")
            if i >= warmup and job.started_at is not None:
                samples.append(job.started_at - job.created_at)
        worker.check_alive()
    finally:
        await app.aclose()
    return samples


def _latency_row(label: str, values: Sequence[float]) -> tuple[str, int, float, float, float,
                                                                 float, float]:
    return (label, len(values), ms(percentile(values, 50)), ms(percentile(values, 90)),
            ms(percentile(values, 99)), ms(max(values)), ms(sum(values) / len(values)))


def bench_latency(sizes: Sizes) -> None:
    rows = []
    with temp_db() as db:
        inproc = asyncio.run(latency_in_process(db, sizes.latency_in_process))
    rows.append(_latency_row("in one process: started_at - created_at", inproc.stored))
    rows.append(_latency_row("in one process: enqueue call -> task code starts", inproc.wall))

    with temp_db() as db:
        # the child creates the schema too; open it here first so both agree on the file
        _prefill(db, NOOP_ASYNC, 0)
        worker = WorkerProcess(db.url, concurrency=10)
        try:
            worker.start()
            cross = asyncio.run(latency_cross_process(db.url, worker,
                                                      sizes.latency_cross_process))
        finally:
            worker.stop()
    rows.append(_latency_row("across processes: started_at - created_at", cross))

    print_table("3/4. idle enqueue-to-start latency, ms (targets: p50 <= 5 in one process,"
                " <= 50 across processes)",
                ["how", "jobs", "p50", "p90", "p99", "max", "mean"], rows)
    print("   each job enqueued after the previous one finished, 2-12 ms apart;"
          " the child polls data_version every 20 ms (the URL's ?poll= default)")


# -- main --------------------------------------------------------------------------
BENCHES: dict[str, Callable[[Sizes], None]] = {
    "enqueue": bench_enqueue,
    "drain": bench_drain,
    "latency": bench_latency,
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller N, for a smoke run")
    parser.add_argument("--only", default=",".join(BENCHES),
                        help=f"comma-separated subset of: {', '.join(BENCHES)}")
    parser.add_argument("--repeat", type=int, default=1,
                        help="drain runs per configuration (the box may be shared; noisy)")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    sizes = Sizes.pick(args.quick, max(1, args.repeat))
    print(f"jobglass {jobglass.__version__} SQLite benchmarks"
          f"{' (quick)' if args.quick else ''}; {os.cpu_count()} CPUs, {_load()}")
    t0 = time.perf_counter()
    for name in chosen:
        BENCHES[name](sizes)
    print(f"\ntotal {time.perf_counter() - t0:.1f}s; {_load()}")


def _load() -> str:
    """Other work on the machine skews every figure; say how busy it was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min)"


if __name__ == "__main__":
    main()
