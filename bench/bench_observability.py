"""What observability costs.

1. No-op drain with every observer on (JSON logs to a file, metrics, tracing to an
   in-memory exporter, stored job logs) against all off, in one process. Target:
   >= 85% of the rate kept. Printed after it: the most any mode that draws one SDK
   span a job can keep, from the off rate and the SDK's cheapest span.
2. `/metrics` render time (store gauges sampled + exposition) with 1,000,000
   finished jobs and 10,000 queued, on SQLite and on PostgreSQL. Target: <= 50 ms.
3. One attempt's OpenTelemetry SDK span, in a loop: sampled and dropped.
4. The drain of (1) with jobs that compute for 1 ms each: off against all on.

    .venv/bin/python -m bench.bench_observability [--quick] [--only spans,drain,work,scrape]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

import jobglass
from bench.common import ms, percentile, print_table, temp_db
from jobglass.cli.collector import tune_collector, young_threshold
from jobglass.observe import events as ev
from jobglass.observe.config import TelemetryConfig
from jobglass.observe.health import Thresholds, assess
from jobglass.observe.observer import Observer
from jobglass.observe.setup import Telemetry, install
from jobglass.store import Store

log_file = tempfile.TemporaryFile("w")  # noqa: SIM115 - lives as long as the bench
PG_URL = os.environ.get("JOBGLASS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


class _Done(Observer):
    def __init__(self, n: int) -> None:
        self.left = n
        self.event = asyncio.Event()

    def on_job_succeeded(self, event: ev.JobSucceeded) -> None:
        self.left -= 1
        if self.left == 0:
            self.event.set()


async def _drain(url: str, n: int, mode: str, work_ms: float = 0.0) -> float:
    app = jobglass.App(url)
    work_s = work_ms / 1000

    @app.task(name="bench.noop")
    async def noop() -> None:
        if work_s:  # CPU work on the loop, as an async task that computes would do
            until = time.perf_counter() + work_s
            while time.perf_counter() < until:
                pass
        return None

    telemetry: Telemetry | None = None
    if mode != "off":
        ratio = TRACE_RATIO.get(mode, 0.0)
        provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(ratio)))
        provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter(),
                                                       max_queue_size=1_000_000))
        only_traces = mode == TRACING_ONLY
        # Above every lifecycle level, the log observer declines all job events. The
        # lines go through install's processors (trace ids when tracing), as a worker's.
        config = TelemetryConfig(tracing=ratio > 0, job_logs=not only_traces,
                                 log_format="json",
                                 log_level="CRITICAL" if only_traces else "INFO")
        telemetry = install(app, config, metrics=not only_traces, tracer_provider=provider,
                            log_stream=log_file)
    store = await app.astore()
    spec = app.spec_for("bench.noop")
    for start in range(0, n, 1000):
        await store.enqueue_many([spec] * min(1000, n - start))
    done = _Done(n)
    app.observer.add(done)
    worker = jobglass.Worker(app, jobglass.WorkerSettings(concurrency=100),
                             scope=telemetry.job_scope if telemetry else None)
    with worker_process_collector():
        began = time.perf_counter()
        task = asyncio.create_task(worker.run())
        await done.event.wait()
        elapsed = time.perf_counter() - began
        worker.request_stop()
        await task
    await app.aclose()
    return n / elapsed


def drain_isolated(url: str, n: int, mode: str, work_ms: float = 0.0) -> float:
    """`_drain` in a fresh interpreter, as each worker is one: what one mode leaves
    behind in a process (a tracer provider and its spans, logging handlers, objects
    for the collector to walk) must not slow the next mode. In one process, the
    third "off" drain of an interleaved run cost twice the first's CPU a job."""
    argv = [sys.executable, "-m", "bench.bench_observability", "--drain-one", mode,
            "--url", url, "--n", str(n), "--work-ms", str(work_ms)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get(
        "PYTHONPATH")])))
    out = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True,
                         timeout=600, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise RuntimeError(f"drain of {mode!r} failed: {out.stderr[-2000:]}")
    return float(out.stdout.split()[-1])


@contextlib.contextmanager
def worker_process_collector() -> Iterator[None]:
    """The garbage collector as `jobglass worker` sets it up (`cli.collector`), for one
    drain: this process stands in for a worker process. Undone afterwards, so one
    drain's frozen objects do not stay out of the next one's collections."""
    thresholds = gc.get_threshold()
    gc.collect()
    tune_collector(young_threshold())
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


TRACING_ONLY = "tracing only, every job (no logs, metrics, job logs)"
TRACE_RATIO = {"all on": 1.0, "all on, traces sampled 10%": 0.1, TRACING_ONLY: 1.0}
# The last mode is the floor under "all on": the attempt's span and its context alone.
MODES = ("off", "all on", "all on, traces sampled 10%", "all on but tracing", TRACING_ONLY)


def bench_drain(n: int, rounds: int, title: str, modes: Sequence[str] = MODES,
                work_ms: float = 0.0) -> None:
    """Each mode's drain rate, median of `rounds` interleaved so machine load hits every
    mode alike, and the share of the "off" rate it keeps."""
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(rounds):
        for mode in modes:
            with temp_db("obs") as db:
                rates[mode].append(drain_isolated(db.url, n, mode, work_ms))
    base = statistics.median(rates["off"])
    rows = [(mode, n, statistics.median(rates[mode]),
             statistics.median(rates[mode]) / base * 100) for mode in modes]
    print_table(f"{title}, median of {rounds}", ["observers", "jobs", "jobs/s", "kept %"], rows)
    if "all on" in modes:
        print(ceiling_note(base, bare_span_cost(20_000), attempt_span_cost(1.0, 20_000)))


def bare_span_cost(n: int) -> float:
    """µs of CPU for the SDK's cheapest recording span: no attributes, no processor,
    never made current; best of three. Every traced attempt costs at least this."""
    tracer = TracerProvider().get_tracer("jobglass")
    best = float("inf")
    for _ in range(3):
        began = time.thread_time()
        for _ in range(n):
            tracer.start_span("process default").end()
        best = min(best, (time.thread_time() - began) / n * 1e6)
    return best


def ceiling_note(off_rate: float, span_us: float, attempt_span_us: float) -> str:
    """The most "all on" can keep when every job gets one SDK span and nothing else
    costs anything: a bound the target has to fit under. Twice: with the SDK's cheapest
    span, and with the span an attempt draws (attributes, made current, ended into a
    batch processor)."""
    job_us = 1e6 / off_rate

    def kept(extra_us: float) -> str:
        return f"{job_us / (job_us + extra_us) * 100:.1f}%"

    return (f"A no-op job costs {job_us:.1f} µs here with observers off. The SDK's cheapest "
            f"span costs {span_us:.1f} µs, so one span a job and nothing else keeps at most "
            f"{kept(span_us)}; the span an attempt draws costs {attempt_span_us:.1f} µs: at "
            f"most {kept(attempt_span_us)} with every job traced.")


async def _fill_sqlite(url: str, finished: int, queued: int) -> Store:
    import sqlite3

    from jobglass.store import store_from_url

    store = store_from_url(url)
    await store.open()
    path = url.removeprefix("sqlite:///")
    db = sqlite3.connect(path, isolation_level=None)
    now = time.time()
    db.execute("BEGIN")
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " INSERT INTO jobglass_jobs (queue, task, state, run_at, created_at, finished_at,"
        " attempt, max_retries, backoff_base, backoff_cap)"
        " SELECT 'q' || (i % 5), 'bench.noop', CASE WHEN i % 10 = 0 THEN 'failed'"
        " ELSE 'succeeded' END, ?, ?, ?, 1, 3, 1, 300 FROM n", (finished, now, now, now))
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " INSERT INTO jobglass_jobs (queue, task, state, run_at, created_at, max_retries,"
        " backoff_base, backoff_cap)"
        " SELECT 'q' || (i % 5), 'bench.noop', 'queued', ? - i, ?, 3, 1, 300 FROM n",
        (queued, now, now))
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    return store


async def _fill_postgres(finished: int, queued: int) -> tuple[Store, str]:
    import psycopg

    from jobglass.store import store_from_url

    schema = f"jobglass_bench_{os.getpid()}"
    store = store_from_url(f"{PG_URL}?schema={schema}")
    await store.open()
    now = time.time()
    async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
        await conn.execute(
            f"INSERT INTO {schema}.jobglass_jobs (queue, task, state, run_at, created_at,"
            " finished_at, attempt, max_retries, backoff_base, backoff_cap)"
            " SELECT 'q' || (i %% 5), 'bench.noop', CASE WHEN i %% 10 = 0 THEN 'failed'"
            " ELSE 'succeeded' END, %s, %s, %s, 1, 3, 1, 300"
            " FROM generate_series(1, %s) i", (now, now, now, finished))
        await conn.execute(
            f"INSERT INTO {schema}.jobglass_jobs (queue, task, state, run_at, created_at,"
            " max_retries, backoff_base, backoff_cap)"
            " SELECT 'q' || (i %% 5), 'bench.noop', 'queued', %s - i, %s, 3, 1, 300"
            " FROM generate_series(1, %s) i", (now, now, queued))
        await conn.execute(f"ANALYZE {schema}.jobglass_jobs")
    return store, schema


async def _time_health(store: Store, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        result = await assess(store, Thresholds())
        times.append(time.perf_counter() - began)
    assert result.status in ("ok", "degraded", "failing")
    return times


async def _time_scrapes(store: Store, rounds: int) -> list[float]:
    app = jobglass.App("sqlite:///unused.db")
    telemetry = install(app, TelemetryConfig(job_logs=False), logging_setup=False)
    assert telemetry.metrics is not None
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        body, _ = await telemetry.metrics.render(store, None)
        times.append(time.perf_counter() - began)
    assert b"jobglass_store_up 1.0" in body, body[:500]
    return times


async def _scrapes(finished: int, queued: int, rounds: int
                   ) -> list[tuple[str, float, float, float, float]]:
    rows = []
    with temp_db("scrape") as db:
        store = await _fill_sqlite(db.url, finished, queued)
        times = await _time_scrapes(store, rounds)
        health = await _time_health(store, rounds)
        await store.close()
        rows.append(("sqlite", ms(percentile(times, 50)), ms(percentile(times, 99)),
                     ms(percentile(health, 50)), ms(percentile(health, 99))))
    try:
        store, schema = await _fill_postgres(finished, queued)
    except Exception as exc:  # no server here: say so, keep the SQLite figure
        print(f"PostgreSQL skipped: {exc}")
        return rows
    try:
        times = await _time_scrapes(store, rounds)
        health = await _time_health(store, rounds)
        rows.append(("postgres", ms(percentile(times, 50)), ms(percentile(times, 99)),
                     ms(percentile(health, 50)), ms(percentile(health, 99))))
    finally:
        await store.close()
        import psycopg

        async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return rows


def bench_scrape(finished: int, queued: int, rounds: int) -> None:
    rows = asyncio.run(_scrapes(finished, queued, rounds))
    print_table(f"/metrics render and health verdict: {finished:,} jobs finished in the last"
                f" minutes + {queued:,} queued ({rounds} rounds each)",
                ["store", "scrape p50 ms", "scrape p99 ms", "health p50 ms", "health p99 ms"],
                rows)


def attempt_span_cost(sampler_ratio: float, n: int) -> float:
    """µs of this thread's CPU per attempt span as the worker draws it: the SDK's span
    started with its attributes, made current, marked and ended into a batch processor
    with an in-memory exporter (its export thread is not counted); best of three."""
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(sampler_ratio)))
    provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter(),
                                                   max_queue_size=n * 2))
    tracer = provider.get_tracer("jobglass")
    best = float("inf")
    for _ in range(3):
        began = time.thread_time()
        for i in range(n):
            span = tracer.start_span(
                "process default", kind=SpanKind.CONSUMER,
                attributes={"messaging.system": "jobglass",
                            "messaging.operation.type": "process",
                            "messaging.destination.name": "default",
                            "messaging.message.id": str(i), "jobglass.task": "bench.noop",
                            "jobglass.attempt": 1})
            token = otel_context.attach(trace.set_span_in_context(span))
            otel_context.detach(token)
            span.set_attribute("jobglass.outcome", "succeeded")
            span.end()
        best = min(best, (time.thread_time() - began) / n * 1e6)
    provider.shutdown()
    return best


def bench_spans(n: int) -> None:
    rows = [(label, attempt_span_cost(ratio, n))
            for label, ratio in (("sampled", 1.0), ("dropped by the sampler", 0.0))]
    rows.append(("the SDK's cheapest: no attributes, no processor, not current",
                 bare_span_cost(n)))
    print_table(f"One attempt's OpenTelemetry SDK span, µs of CPU each ({n:,} in a loop, "
                "best of 3)", ["span", "µs"], rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="spans,drain,work,scrape")
    parser.add_argument("--drain-one", metavar="MODE", help="one drain in this process;"
                        " prints its rate (what drain_isolated runs)")
    parser.add_argument("--url")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--work-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    if args.drain_one:
        print(asyncio.run(_drain(args.url, args.n, args.drain_one, args.work_ms)))
        return
    only = set(args.only.split(","))
    print(f"load average at start: {os.getloadavg()}")
    if "spans" in only:
        bench_spans(5_000 if args.quick else 50_000)
    rounds = 1 if args.quick else 3
    if "drain" in only:
        bench_drain(5_000 if args.quick else 20_000, rounds,
                    "No-op drain, one process, concurrency 100 (JSON logs to a file, metrics,"
                    " job logs, spans to an in-memory exporter)")
    if "work" in only:  # what observing costs a job that does something
        bench_drain(500 if args.quick else 3_000, rounds,
                    "Jobs of 1 ms of CPU work each, one process", ("off", "all on"), 1.0)
    if "scrape" in only:
        bench_scrape(100_000 if args.quick else 1_000_000, 10_000, 20 if args.quick else 50)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
