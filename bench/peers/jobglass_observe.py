"""jobglass-only workloads 6 and 7, reusing bench/bench_observability.py.

    .venv/bin/python -m bench.peers.jobglass_observe scrape --finished 1000000 --rounds 30
    .venv/bin/python -m bench.peers.jobglass_observe obs --n 20000 --rounds 3

scrape: /metrics render (store gauges sampled + exposition) and the health verdict
(`observe.health.assess`: ping + `store.health_sample` + verdict, what
`jobglass health` and GET /api/health compute) with `finished` finished jobs and
10,000 queued, on SQLite and PostgreSQL. obs: the in-process no-op drain with every
observer on against all off (bench_observability's modes), SQLite and PostgreSQL, and
off against all on for jobs of 1 ms of CPU work on SQLite.

bench_observability fills every finished job with finished_at = now, so all of them
sit inside the health check's 5-minute throughput window (a burst: the worst case
for the throughput count). The scrape workload times that, then spreads the same
rows' finished_at evenly over 30 days (~115 inside the window) and times it again.
Prints `RESULT {...}` last.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import traceback
from typing import Any

from bench import bench_observability as bo
from bench.common import percentile, temp_db
from jobglass.observe.health import Thresholds, assess
from jobglass.store import Store


async def _time_health(store: Store, rounds: int) -> tuple[list[float], list[float], str]:
    t = Thresholds()
    verdict_times, sample_times = [], []
    status = "?"
    for _ in range(rounds):
        began = time.perf_counter()
        verdict = await assess(store, t)
        verdict_times.append(time.perf_counter() - began)
        status = verdict.status.value
        began = time.perf_counter()
        await store.health_sample(silent_after=t.silent_after, window=t.window)
        sample_times.append(time.perf_counter() - began)
    return verdict_times, sample_times, status


def _figures(times: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(times, 50) * 1e3, "p99_ms": percentile(times, 99) * 1e3}


SPREAD = 30 * 86_400.0  # seconds the finished jobs are spread over, second figure


async def _measure(store: Store, rounds: int) -> dict[str, Any]:
    scrapes = await bo._time_scrapes(store, rounds)
    health, sample, status = await _time_health(store, rounds)
    return {"scrape": _figures(scrapes), "health": _figures(health),
            "health_sample": _figures(sample), "status": status}


async def scrape(finished: int, queued: int, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {"finished": finished, "queued": queued, "rounds": rounds}
    step = SPREAD / max(finished, 1)
    with temp_db("scrape") as db:
        t0 = time.perf_counter()
        store = await bo._fill_sqlite(db.url, finished, queued)
        fill = time.perf_counter() - t0
        try:
            out["sqlite"] = await _measure(store, rounds)
            out["sqlite"]["fill_s"] = fill
            import sqlite3

            conn = sqlite3.connect(str(db.path), isolation_level=None)
            conn.execute("UPDATE jobglass_jobs SET finished_at = finished_at - id * ?,"
                         " created_at = created_at - id * ? WHERE finished_at IS NOT NULL",
                         (step, step))
            conn.execute("ANALYZE")
            conn.close()
            out["sqlite_spread"] = await _measure(store, rounds)
        finally:
            await store.close()
    try:
        t0 = time.perf_counter()
        store, schema = await bo._fill_postgres(finished, queued)
        fill = time.perf_counter() - t0
    except Exception as exc:
        out["postgres"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        with contextlib.suppress(Exception):  # the half-filled schema, named as bo names it
            import psycopg

            with psycopg.connect(bo.PG_URL, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS jobglass_bench_{os.getpid()} CASCADE")
        return out
    try:
        out["postgres"] = await _measure(store, rounds)
        out["postgres"]["fill_s"] = fill
        import psycopg

        async with await psycopg.AsyncConnection.connect(bo.PG_URL, autocommit=True) as conn:
            await conn.execute(
                f"UPDATE {schema}.jobglass_jobs SET finished_at = finished_at - id * %s,"
                " created_at = created_at - id * %s WHERE finished_at IS NOT NULL",
                (step, step))
            await conn.execute(f"VACUUM ANALYZE {schema}.jobglass_jobs")
        out["postgres_spread"] = await _measure(store, rounds)
    finally:
        await store.close()
        import psycopg

        async with await psycopg.AsyncConnection.connect(bo.PG_URL, autocommit=True) as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return out


def obs(n: int, rounds: int) -> dict[str, Any]:
    import psycopg

    out: dict[str, Any] = {"n": n, "rounds": rounds}
    pairs = [f"{store}/{mode}" for store in ("postgres", WORK_STORE) for mode in ("off", "all on")]
    rates: dict[str, list[float]] = {key: [] for key in
                                     [*(f"sqlite/{m}" for m in bo.MODES), *pairs]}
    work_n = max(100, n // 7)  # jobs of 1 ms each: what observing costs real work
    for r in range(rounds):
        for mode in bo.MODES:  # interleaved, so load on the box hits every mode alike
            with temp_db("obs") as db:
                rates[f"sqlite/{mode}"].append(bo.drain_isolated(db.url, n, mode))
        for mode in ("off", "all on"):
            schema = f"bench_obs_{os.getpid()}_{r}_{mode.replace(' ', '')}"
            try:
                rates[f"postgres/{mode}"].append(
                    bo.drain_isolated(f"{bo.PG_URL}?schema={schema}", n, mode))
            finally:
                with psycopg.connect(bo.PG_URL, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            with temp_db("obs") as db:
                rates[f"{WORK_STORE}/{mode}"].append(
                    bo.drain_isolated(db.url, work_n, mode, work_ms=1.0))
    out["rates"] = {k: statistics.median(v) for k, v in rates.items() if v}
    span_us = bo.bare_span_cost(20_000)
    attempt_span_us = bo.attempt_span_cost(1.0, 20_000)
    out["ceilings"] = {store: bo.ceiling_note(out["rates"][f"{store}/off"], span_us,
                                              attempt_span_us)
                       for store in ("sqlite", "postgres") if f"{store}/off" in out["rates"]}
    return out


WORK_STORE = "sqlite, 1 ms jobs"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["scrape", "obs"])
    parser.add_argument("--finished", type=int, default=1_000_000)
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    try:
        if args.what == "scrape":
            result = asyncio.run(scrape(args.finished, args.queued, args.rounds))
        else:
            result = obs(args.n, args.rounds)
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"[:400]}
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
