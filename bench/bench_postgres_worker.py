"""PostgreSQL benchmarks with real worker processes, like bench_sqlite.py. They print
figures; nothing asserts on time. Each run uses a throw-away schema, dropped after.

    .venv/bin/python -m bench.bench_postgres_worker [--quick] [--only enqueue,drain,latency]
                                                    [--url postgresql://...] [--repeat N]

1. enqueue: batches of 1,000 through `store.enqueue_many` (specs prebuilt) and
   `app.enqueue_specs` (the sync API, spec_for included).
2. drain: N no-op jobs enqueued first, then ONE `python -m jobglass worker` process
   (concurrency 100) started; timed from its start until no job is queued or
   running, and from the first started_at to the last finished_at (start-up excluded).
3. idle latency across processes: a worker process waits on LISTEN/NOTIFY; jobs are
   enqueued one at a time from this process, each after the previous one finished;
   latency = started_at - created_at, as stored.

Targets (2-core machine): drain >= 10,000 jobs/s in one worker process, batch
enqueue >= 30,000 jobs/s, idle latency p50 <= 5 ms across processes.
The URL defaults to JOBGLASS_TEST_PG_URL or the local test database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import psycopg

import jobglass
from bench.bench_sqlite import DrainResult, _latency_row, _load, latency_cross_process
from bench.common import WorkerProcess, ms, print_table
from bench.tasks import NOOP_ASYNC, NOOP_SYNC, make_app

DEFAULT_URL = os.environ.get("JOBGLASS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BATCH = 1_000
WORKER_CONCURRENCY = 100
POLL = 0.05


@dataclass(frozen=True, slots=True)
class Sizes:
    enqueue: int
    drain: int
    latency: int
    repeat: int = 1

    @classmethod
    def pick(cls, quick: bool, repeat: int) -> Sizes:
        return cls(10_000, 5_000, 100, repeat) if quick else cls(50_000, 20_000, 500, repeat)


@dataclass(frozen=True, slots=True)
class Schema:
    server: str  # the URL without a schema
    name: str

    @property
    def url(self) -> str:
        return f"{self.server}{'&' if '?' in self.server else '?'}schema={self.name}"

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.server, autocommit=True)


@contextlib.contextmanager
def temp_schema(server: str) -> Iterator[Schema]:
    schema = Schema(server, f"jobglass_bench_{secrets.token_hex(4)}")
    try:
        yield schema
    finally:
        with schema.connect() as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema.name} CASCADE")


def _prefill(schema: Schema, task: str, n: int) -> None:
    async def fill() -> None:
        app = make_app(schema.url)
        store = await app.astore()  # creates the schema
        try:
            for start in range(0, n, BATCH):
                await store.enqueue_many([app.spec_for(task)
                                          for _ in range(min(BATCH, n - start))])
        finally:
            await app.aclose()

    asyncio.run(fill())
    with schema.connect() as conn:  # fresh statistics, as a long-lived queue table has
        conn.execute(f"ANALYZE {schema.name}.jobglass_jobs")


# -- 1. enqueue ----------------------------------------------------------------------
def bench_enqueue(server: str, sizes: Sizes) -> None:
    rows: list[tuple[str, int, float, float]] = []

    async def on_loop(schema: Schema) -> None:
        app = make_app(schema.url)
        store = await app.astore()
        try:
            specs = [app.spec_for(NOOP_ASYNC) for _ in range(sizes.enqueue)]
            await store.enqueue_many(specs[:BATCH])  # warm the pool and the plans
            t0 = time.perf_counter()
            for start in range(0, len(specs), BATCH):
                await store.enqueue_many(specs[start:start + BATCH])
            elapsed = time.perf_counter() - t0
            rows.append((f"store.enqueue_many, batches of {BATCH:,} (specs prebuilt)",
                         len(specs), elapsed, len(specs) / elapsed))
        finally:
            await app.aclose()

    for _ in range(sizes.repeat):
        with temp_schema(server) as schema:
            asyncio.run(on_loop(schema))

    with temp_schema(server) as schema:
        app = make_app(schema.url)
        try:
            app.enqueue_specs([app.spec_for(NOOP_ASYNC) for _ in range(10)])
            t0 = time.perf_counter()
            for start in range(0, sizes.enqueue, BATCH):
                app.enqueue_specs([app.spec_for(NOOP_ASYNC)
                                   for _ in range(min(BATCH, sizes.enqueue - start))])
            elapsed = time.perf_counter() - t0
            rows.append((f"app.enqueue_specs, batches of {BATCH:,} (incl. spec_for)",
                         sizes.enqueue, elapsed, sizes.enqueue / elapsed))
        finally:
            app.close()

    print_table("1. enqueue (target: batched >= 30,000 jobs/s)",
                ["how", "jobs", "seconds", "jobs/s"], rows)


# -- 2. drain ------------------------------------------------------------------------
def _pending(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {schema}.jobglass_jobs"
                       " WHERE state IN ('queued', 'running')").fetchone()
    return int(str(row[0])) if row else 0


def _span(schema: Schema) -> tuple[int, float, float]:
    with schema.connect() as conn:
        row = conn.execute(f"SELECT count(*), min(started_at), max(finished_at)"
                           f" FROM {schema.name}.jobglass_jobs WHERE state = 'succeeded'"
                           ).fetchone()
    assert row is not None
    count, first, last = row
    return int(str(count)), float(str(first or 0.0)), float(str(last or 0.0))


def drain_in_subprocess(server: str, task: str, n: int, timeout: float = 120.0
                        ) -> DrainResult:
    with temp_schema(server) as schema:
        _prefill(schema, task, n)
        worker = WorkerProcess(schema.url, concurrency=WORKER_CONCURRENCY)
        try:
            started = worker.start()
            deadline = time.monotonic() + timeout
            with schema.connect() as conn:
                while True:
                    time.sleep(POLL)
                    worker.check_alive()
                    if _pending(conn, schema.name) == 0:
                        done = time.time()
                        break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{n} jobs not drained in {timeout}s")
        finally:
            worker.stop()
        succeeded, first, last = _span(schema)
    return DrainResult(f"worker process, {task}", n, succeeded, done - started,
                       first - started, last - first)


def bench_drain(server: str, sizes: Sizes) -> None:
    results = [drain_in_subprocess(server, task, sizes.drain)
               for task in (NOOP_ASYNC, NOOP_SYNC) for _ in range(sizes.repeat)]
    print_table(f"2. drain, one worker process, concurrency {WORKER_CONCURRENCY}"
                " (target: >= 10,000 jobs/s)",
                ["how", "jobs", "succeeded", "wall s", "wall jobs/s", "start-up ms",
                 "run span s", "span jobs/s"],
                [r.row() for r in results])
    print("   wall: from process start until nothing is queued or running (checked every"
          f" {ms(POLL):.0f} ms); span: first started_at to last finished_at (start-up"
          " excluded)")


# -- 3. idle latency: bench_sqlite.latency_cross_process on a PostgreSQL URL --------
def bench_latency(server: str, sizes: Sizes) -> None:
    rows = []
    for _ in range(sizes.repeat):
        with temp_schema(server) as schema:
            _prefill(schema, NOOP_ASYNC, 0)
            worker = WorkerProcess(schema.url, concurrency=10)
            try:
                worker.start()
                samples = asyncio.run(latency_cross_process(schema.url, worker, sizes.latency))
            finally:
                worker.stop()
        rows.append(_latency_row("across processes: started_at - created_at", samples))
    print_table("3. idle enqueue-to-start latency, ms (target: p50 <= 5 across processes)",
                ["how", "jobs", "p50", "p90", "p99", "max", "mean"], rows)
    print("   each job enqueued after the previous one finished, 2-12 ms apart; the worker"
          " wakes on LISTEN/NOTIFY (the poll, 0.5 s, is only a fallback)")


# -- main ----------------------------------------------------------------------------
BENCHES: dict[str, Callable[[str, Sizes], None]] = {
    "enqueue": bench_enqueue,
    "drain": bench_drain,
    "latency": bench_latency,
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default=DEFAULT_URL, help="the server (no ?schema=)")
    parser.add_argument("--quick", action="store_true", help="smaller N, for a smoke run")
    parser.add_argument("--only", default=",".join(BENCHES),
                        help=f"comma-separated subset of: {', '.join(BENCHES)}")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    sizes = Sizes.pick(args.quick, max(1, args.repeat))
    print(f"jobglass {jobglass.__version__} PostgreSQL benchmarks (worker processes)"
          f"{' (quick)' if args.quick else ''}; {os.cpu_count()} CPUs, {_load()}")
    t0 = time.perf_counter()
    for name in chosen:
        BENCHES[name](args.url, sizes)
    print(f"\ntotal {time.perf_counter() - t0:.1f}s; {_load()}")


if __name__ == "__main__":
    main()
