"""Profiles of jobglass where `python -m bench` shows it missing a target.

    .venv/bin/python -m bench.peers.profile_jobglass drain [--n 20000] [--synchronous full]
    .venv/bin/python -m bench.peers.profile_jobglass obs [--n 10000] [--store sqlite|postgres]
    .venv/bin/python -m bench.peers.profile_jobglass health [--finished 1000000]
    .venv/bin/python -m bench.peers.profile_jobglass memory [--n 100000] [--store postgres]

drain: an in-process SQLite drain under cProfile, every thread separately
(bench/profile_sqlite.py's hooks), at the synchronous setting the peers table uses.
obs: the same with every observer on (bench_observability's "all on"), to set
against drain. health: `health_sample`'s queries one by one at N finished jobs
(all inside the 5-minute window, as bench_observability fills them), with SQLite's
and PostgreSQL's query plans. memory: an in-process drain with tracemalloc
snapshots after the first 10% and at the end; prints the allocation sites that grew.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import threading
import time
import tracemalloc
from collections import defaultdict
from dataclasses import dataclass

from bench import bench_observability as bo
from bench import profile_sqlite as ps
from bench.bench_sqlite import _prefill
from bench.common import temp_db
from bench.peers.base import rss_kb
from bench.tasks import NOOP_ASYNC


@dataclass(frozen=True)
class Url:
    url: str


def _print_profiles(main_profile: cProfile.Profile, top: int) -> None:
    groups: dict[str, list[cProfile.Profile]] = defaultdict(list)
    groups["MainThread (event loop)"].append(main_profile)
    for name, profile in ps._profiles:
        groups[ps._group(name)].append(profile)
    for name, profiles in groups.items():
        stats = pstats.Stats(profiles[0])
        for extra in profiles[1:]:
            stats.add(extra)
        ps._summary(f"{name} x{len(profiles)}", stats, top)
    ps._profiles.clear()


def _profiled(run: object, top: int) -> float:
    main_profile = cProfile.Profile()
    threading.setprofile(ps._boot)
    started = time.perf_counter()
    main_profile.enable()
    try:
        asyncio.run(run)  # type: ignore[arg-type]
    finally:
        main_profile.disable()
        threading.setprofile(None)
    elapsed = time.perf_counter() - started
    _print_profiles(main_profile, top)
    return elapsed


def drain(n: int, synchronous: str, top: int) -> None:
    from bench.bench_sqlite import drain_in_process_async

    with temp_db() as db:
        url = Url(f"{db.url}?synchronous={synchronous}")
        _prefill(url, NOOP_ASYNC, n)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        elapsed = _profiled(drain_in_process_async(url, n), top)  # type: ignore[arg-type]
    print(f"\ndrained {n:,} jobs (synchronous={synchronous}) in {elapsed:.2f}s under cProfile"
          f" ({n / elapsed:,.0f} jobs/s); {time.perf_counter() - t0:.1f}s in all")


def obs(n: int, store: str, top: int) -> None:
    for mode in ("off", "all on"):
        print(f"\n##### observers: {mode}")
        if store == "sqlite":
            with temp_db("obs") as db:
                rate = asyncio.run(bo._drain(db.url, n, mode))  # unprofiled figure first
            with temp_db("obs") as db:
                elapsed = _profiled(bo._drain(db.url, n, mode), top)
        else:
            schema = f"bench_prof_{os.getpid()}"
            url = f"{bo.PG_URL}?schema={schema}"
            try:
                rate = asyncio.run(bo._drain(url, n, mode))
                _drop(schema)
                elapsed = _profiled(bo._drain(url, n, mode), top)
            finally:
                _drop(schema)
        print(f"\n{mode}: {rate:,.0f} jobs/s unprofiled; {elapsed:.2f}s under cProfile")


def _drop(schema: str) -> None:
    import psycopg

    with psycopg.connect(bo.PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


SQLITE_QUERIES = {
    "queue counts": "SELECT queue, state, COUNT(*) FROM jobglass_jobs"
                    " WHERE state IN ('blocked', 'queued', 'running') GROUP BY queue, state",
    "oldest ready": "SELECT queue, MIN(run_at) FROM jobglass_jobs"
                    " WHERE state = 'queued' AND run_at <= :now GROUP BY queue",
    "throughput": "SELECT queue, state, COUNT(*) FROM jobglass_jobs INDEXED BY jobglass_jobs_done"
                  " WHERE state IN ('succeeded', 'failed', 'cancelled') AND finished_at >= :since"
                  " GROUP BY queue, state",
    "last finished": "SELECT finished_at FROM jobglass_jobs INDEXED BY jobglass_jobs_done"
                     " WHERE state IN ('succeeded', 'failed', 'cancelled') AND state <> 'cancelled'"
                     " AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1",
}


def health(finished: int, rounds: int) -> None:
    import sqlite3

    async def run_sqlite() -> None:
        with temp_db("health") as db:
            store = await bo._fill_sqlite(db.url, finished, 10_000)
            await store.close()
            conn = sqlite3.connect(str(db.path))
            now = time.time()
            print(f"\nSQLite, {finished:,} finished (all in the window) + 10,000 queued:")
            for name, sql in SQLITE_QUERIES.items():
                args = {"now": now, "since": now - 300}
                times = []
                for _ in range(rounds):
                    t0 = time.perf_counter()
                    conn.execute(sql, args).fetchall()
                    times.append(time.perf_counter() - t0)
                plan = "; ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, args))
                print(f"  {name:14} {min(times) * 1e3:8.1f} ms (best of {rounds})  plan: {plan}")
            conn.close()

    asyncio.run(run_sqlite())

    async def run_pg() -> None:
        import psycopg

        store, schema = await bo._fill_postgres(finished, 10_000)
        await store.close()
        try:
            with psycopg.connect(bo.PG_URL, autocommit=True) as conn:
                conn.execute(f"SET search_path = {schema}")
                now = time.time()
                print(f"\nPostgreSQL, {finished:,} finished (all in the window) + 10,000 queued:")
                for name, sql in SQLITE_QUERIES.items():
                    q = (sql.replace(" INDEXED BY jobglass_jobs_done", "")
                         .replace(":now", "%(now)s").replace(":since", "%(since)s"))
                    args = {"now": now, "since": now - 300}
                    rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + q, args).fetchall()
                    total = next((r[0] for r in rows if r[0].startswith("Execution Time")), "")
                    print(f"  {name:14} {total}")
                    for r in rows[:4]:
                        print(f"      {r[0]}")
        finally:
            _drop(schema)

    asyncio.run(run_pg())


def memory(n: int, store: str, top: int, trace: bool) -> None:
    """tracemalloc over an in-process drain (Worker on this loop, concurrency 100)."""
    import jobglass
    from bench.bench_sqlite import _Counter
    from bench.tasks import make_app

    async def run(url: str) -> None:
        app = make_app(url)
        s = await app.astore()
        for start in range(0, n, 1000):
            await s.enqueue_many([app.spec_for(NOOP_ASYNC) for _ in range(min(1000, n - start))])
        snaps: list[tracemalloc.Snapshot] = []
        done = asyncio.Event()
        tenth = asyncio.Event()

        class Watch(_Counter):
            def _one(self) -> None:
                super()._one()
                if self.ended == n // 10:
                    tenth.set()

        worker = jobglass.Worker(app, jobglass.WorkerSettings(concurrency=100, reap=False),
                                 observer=Watch(n, done.set))
        if trace:
            tracemalloc.start(12)
        running = asyncio.create_task(worker.run())
        await tenth.wait()
        rss = [rss_kb(os.getpid()) or 0]
        if trace:
            snaps.append(tracemalloc.take_snapshot())
        await done.wait()
        rss.append(rss_kb(os.getpid()) or 0)
        print(f"\n{store}: this process's VmRSS {rss[0] / 1024:.1f} MiB at job {n // 10:,},"
              f" {rss[1] / 1024:.1f} MiB at job {n:,} (+{(rss[1] - rss[0]) / 1024:.1f} MiB)")
        if not trace:
            worker.request_stop()
            await running
            await app.aclose()
            return
        snaps.append(tracemalloc.take_snapshot())
        worker.request_stop()
        await running
        await app.aclose()
        first, last = snaps
        diff = last.compare_to(first, "traceback")
        grown = sum(d.size_diff for d in diff)
        print(f"\n{store}: traced memory grew {grown / 2**20:.1f} MiB between job {n // 10:,}"
              f" and job {n:,}; top sites:")
        for d in diff[:top]:
            print(f"\n  +{d.size_diff / 2**20:.2f} MiB in {d.count_diff:+,} blocks")
            for line in d.traceback.format()[-12:]:
                print(f"    {line}")

    if store == "sqlite":
        with temp_db("mem") as db:
            asyncio.run(run(db.url))
    else:
        schema = f"bench_mem_{os.getpid()}"
        try:
            asyncio.run(run(f"{bo.PG_URL}?schema={schema}"))
        finally:
            _drop(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("what", choices=["drain", "obs", "health", "memory"])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--finished", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--synchronous", default="full")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--no-trace", action="store_true",
                        help="memory: VmRSS only, without tracemalloc")
    args = parser.parse_args()
    if args.what == "drain":
        drain(args.n, args.synchronous, args.top)
    elif args.what == "obs":
        obs(args.n, args.store, args.top)
    elif args.what == "health":
        health(args.finished, args.rounds)
    else:
        memory(args.n, args.store, args.top, not args.no_trace)


if __name__ == "__main__":
    main()
