"""Store-level figures for the PostgreSQL backend, in a throw-away schema.

    .venv/bin/python bench/bench_postgres.py [--jobs 20000] [--url postgresql://...]

Prints: batch enqueue rate (batches of 1000), claim+finish drain rate (batches of
100; one consumer, then four), and the latency of a one-job claim on a deep queue.
The URL defaults to JOBGLASS_TEST_PG_URL or the local test database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import time

import psycopg

from jobglass.model import JobSpec, Outcome
from jobglass.store import Report
from jobglass.store.postgres import PostgresStore

DEFAULT_URL = os.environ.get("JOBGLASS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


async def enqueue_rate(store: PostgresStore, jobs: int, batch: int = 1000) -> float:
    started = time.perf_counter()
    for start in range(0, jobs, batch):
        await store.enqueue_many([JobSpec(task="bench", args=[i])
                                  for i in range(start, min(jobs, start + batch))])
    return jobs / (time.perf_counter() - started)


async def drain_rate(stores: list[PostgresStore], jobs: int, batch: int = 100) -> float:
    done = 0

    async def consume(store: PostgresStore, worker: str) -> None:
        nonlocal done
        while claimed := await store.claim(worker, [], batch):
            await store.finish_many([Report(job_id=j.id, lease=j.lease or "",
                                            outcome=Outcome.SUCCEEDED, result=j.id)
                                     for j in claimed])
            done += len(claimed)

    started = time.perf_counter()
    await asyncio.gather(*(consume(s, f"w{i}") for i, s in enumerate(stores)))
    elapsed = time.perf_counter() - started
    assert done == jobs, (done, jobs)
    return done / elapsed


async def claim_latency(store: PostgresStore, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        [job] = await store.claim("latency", [], 1)
        out.append(time.perf_counter() - started)
        await store.finish_many([Report(job_id=job.id, lease=job.lease or "",
                                        outcome=Outcome.SUCCEEDED)])
    return out


async def main(url: str, jobs: int) -> None:
    schema = f"jobglass_bench_{secrets.token_hex(4)}"
    store_url = _with_schema(url, schema)
    stores = [PostgresStore(store_url) for _ in range(4)]
    try:
        for s in stores:
            await s.open()
        store = stores[0]
        rate = await enqueue_rate(store, jobs)
        print(f"enqueue, batches of 1000 : {rate:10,.0f} jobs/s  ({jobs:,} jobs)")
        rate = await drain_rate([store], jobs)
        print(f"claim+finish, batch 100  : {rate:10,.0f} jobs/s  (1 consumer)")
        await enqueue_rate(store, jobs)
        rate = await drain_rate(stores, jobs)
        print(f"claim+finish, batch 100  : {rate:10,.0f} jobs/s  (4 consumers, 4 stores)")
        await enqueue_rate(store, 10_000)
        lat = sorted(await claim_latency(store, 1000))
        print(f"claim(limit=1), 10k deep : median {statistics.median(lat) * 1e3:.2f} ms,"
              f" p99 {lat[int(len(lat) * 0.99)] * 1e3:.2f} ms (+finish per sample)")
    finally:
        for s in stores:
            await s.close()
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--jobs", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.jobs))
