"""Dashboard page render times with 1,000,000 finished jobs and 10,000 queued.

The store is filled by direct SQL (as bench_observability does): 1,000,000 finished
jobs in five queues (10% failed, with an error), finished over the last
`--spread` seconds (default two days, so the health window holds a realistic
~1,700 of them), 10,000 queued, twenty workers (five dead), an hour of per-minute
figures, and one failed job with two attempts, tracebacks and 400 stored log lines.
Each page is then requested through httpx's ASGI transport (the whole app: request id
middleware, session, store reads, templates) and timed. Target: p99 under 200 ms.

    .venv/bin/python -m bench.bench_dashboard [--quick] [--rounds 30] [--spread 172800]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Sequence

import httpx

import jobglass
from bench.common import ms, percentile, print_table, temp_db
from jobglass.model.stats import WAIT_BOUNDS
from jobglass.web import WebSettings, create_app

TARGET_MS = 200.0
TRACEBACK = "Traceback (most recent call last):\n" + "".join(
    f'  File "/srv/app/mod{i}.py", line {10 + i}, in f{i}\n    g{i}()\n' for i in range(12)
) + "RuntimeError: boom"


def fill(path: str, finished: int, queued: int, spread: float) -> int:
    """Fill the (migrated) database; return the id of the job with attempts and logs."""
    db = sqlite3.connect(path, isolation_level=None)
    now = time.time()
    start = now - spread
    step = spread / max(1, finished)
    db.execute("BEGIN")
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " INSERT INTO jobglass_jobs (queue, task, state, args, kwargs, run_at, created_at,"
        " started_at, finished_at, attempt, errors, max_retries, backoff_base, backoff_cap,"
        " error, result, request_id)"
        " SELECT 'q' || (i % 5), 'bench.task' || (i % 7),"
        " CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END,"
        " '[' || i || ']', '{\"user\": \"u' || (i % 1000) || '@example.com\"}',"
        " ? + i * ?, ? + i * ?, ? + i * ? + 0.01, ? + i * ? + 0.05, 1,"
        " CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END, 0, 1, 300,"
        " CASE WHEN i % 10 = 0 THEN 'RuntimeError: boom' END,"
        " CASE WHEN i % 10 = 0 THEN NULL ELSE '{\"ok\": true}' END,"
        " CASE WHEN i % 100 = 0 THEN 'req-' || (i / 100) END FROM n",
        (finished, start, step, start, step, start, step, start, step))
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " INSERT INTO jobglass_jobs (queue, task, state, args, run_at, created_at, max_retries,"
        " backoff_base, backoff_cap)"
        " SELECT 'q' || (i % 5), 'bench.task' || (i % 7), 'queued', '[' || i || ']', ? - i,"
        " ? - i, 3, 1, 300 FROM n", (queued, now, now))
    # the job a person opens at 3 AM: failed twice, with tracebacks and a long log
    cur = db.execute(
        "INSERT INTO jobglass_jobs (queue, task, state, args, kwargs, run_at, created_at,"
        " started_at, finished_at, attempt, errors, max_retries, backoff_base, backoff_cap,"
        " error) VALUES ('q1', 'bench.charge', 'failed', '[1]', '{\"api_key\": \"x\"}',"
        " ?, ?, ?, ?, 2, 2, 1, 1, 300, 'RuntimeError: boom')", (now - 60, now - 60, now - 5, now))
    job_id = int(cur.lastrowid or 0)
    for n in (1, 2):
        db.execute("INSERT INTO jobglass_attempts (job_id, number, worker_id, started_at,"
                   " ended_at, outcome, error_type, error_message, traceback) VALUES"
                   " (?, ?, 'w-0', ?, ?, 'failed', 'RuntimeError', 'boom', ?)",
                   (job_id, n, now - 60 + n * 20, now - 50 + n * 20, TRACEBACK))
        db.executemany("INSERT INTO jobglass_job_logs (job_id, attempt, ts, level, stream,"
                       " message, fields) VALUES (?, ?, ?, 'info', 'log', ?, ?)",
                       [(job_id, n, now - 60 + i * 0.01, f"step {i} of 200",
                         json.dumps({"i": i})) for i in range(200)])
    for w in range(20):
        held = json.dumps([job_id]) if w >= 15 else "[]"
        db.execute("INSERT INTO jobglass_workers (id, host, pid, queues, started_at,"
                   " last_heartbeat, state, current_jobs, jobs_done, evidence) VALUES"
                   " (?, ?, ?, '[\"q0\", \"q1\"]', ?, ?, ?, ?, ?, ?)",
                   (f"w-{w}", f"host-{w % 4}", 1000 + w, now - 86400,
                    now - (600 if w >= 15 else 1), "dead" if w >= 15 else "running", held,
                    finished // 20,
                    json.dumps({"held_jobs": [job_id]}) if w >= 15 else None))
    minute = int(now // 60)
    buckets = len(WAIT_BOUNDS) + 1
    db.executemany("INSERT INTO jobglass_stats (minute, queue, succeeded, failed, retried,"
                   " wait) VALUES (?, ?, ?, ?, ?, ?)",
                   [(minute - back, f"q{q}", 600, 60, 10,
                     json.dumps([(i * 7 + back) % 50 for i in range(buckets)]))
                    for back in range(61) for q in range(5)])
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    return job_id


async def time_pages(url: str, job_id: int, rounds: int, middle: int
                     ) -> list[tuple[str, float, float, float]]:
    app = jobglass.App(url)
    web = create_app(app, WebSettings())
    pages = [
        ("/", "overview"),
        ("/jobs", "jobs, newest"),
        (f"/jobs?before={middle}", "jobs, a page deep in history"),
        ("/jobs?state=failed", "jobs, failed"),
        ("/jobs?state=queued", "jobs, queued"),
        ("/jobs?queue=q0&state=failed", "jobs, one queue's failed"),
        ("/jobs?queue=q3&state=failed", "jobs, a filter nothing matches (one 100k-id window)"),
        ("/jobs?request_id=req-4242", "jobs, by request id"),
        (f"/jobs/{job_id}", "job: 2 attempts, 400 log lines"),
        (f"/jobs/{job_id}/logs/tail?attempt=2&after=0", "log tail"),
        ("/workers", "workers"),
        ("/queues", "queues"),
        ("/queues/q1", "one queue's charts"),
    ]
    rows = []
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for path, label in pages:
            times = []
            for index in range(rounds + 2):
                began = time.perf_counter()
                reply = await client.get(path)
                elapsed = time.perf_counter() - began
                assert reply.status_code == 200, (path, reply.status_code, reply.text[:300])
                if index >= 2:  # the first two warm caches and templates
                    times.append(elapsed)
            rows.append((f"{label}  {path}", ms(percentile(times, 50)), ms(percentile(times, 99)),
                         ms(max(times))))
    await app.aclose()
    return rows


async def run(finished: int, queued: int, rounds: int, spread: float) -> None:
    with temp_db("dashboard") as db:
        app = jobglass.App(db.url)
        await app.astore()  # creates and migrates the schema
        await app.aclose()
        began = time.perf_counter()
        job_id = fill(str(db.path), finished, queued, spread)
        print(f"filled {finished:,} finished + {queued:,} queued jobs in"
              f" {time.perf_counter() - began:.1f}s")
        rows = await time_pages(db.url, job_id, rounds, middle=finished // 2)
    print_table(f"Dashboard pages on SQLite: {finished:,} finished + {queued:,} queued jobs,"
                f" {rounds} requests each (target p99 < {TARGET_MS:.0f} ms)",
                ["page", "p50 ms", "p99 ms", "max ms"], rows)
    slow = [r[0] for r in rows if r[2] >= TARGET_MS]
    print("every page under target" if not slow else f"OVER TARGET: {', '.join(slow)}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="100,000 finished jobs")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--spread", type=float, default=2 * 86400.0,
                        help="seconds over which the finished jobs finished")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}")
    asyncio.run(run(100_000 if args.quick else 1_000_000, 10_000, args.rounds, args.spread))
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
