"""A store with something to show on every dashboard page, and a real server on it.

`seed(url)` fills a fresh database through the store's own verbs (no SQL): finished
jobs with results, one job that failed twice with tracebacks and stored log lines, a
job the reaper took back from a dead worker (evidence), a running job with a live
log, queued and blocked jobs, a parent with children, an hour of per-minute figures
for the charts, and an alive and a dead worker.

`Server` runs uvicorn on a loopback socket bound (and listening) before it starts,
so a browser can connect at once: no waiting for the server to come up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn

import jobglass
from jobglass.model import JobSpec, LogLine, Outcome, WorkerInfo
from jobglass.model.access import Scope, hash_token, new_token
from jobglass.model.stats import MinuteStats
from jobglass.store import Progress, Report, Store, store_from_url
from jobglass.web import WebSettings, create_app

T = TypeVar("T")
TRACE_URL = "http://jaeger.internal:16686/trace/{trace_id}"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACEBACK = '''Traceback (most recent call last):
  File "/srv/app/billing/tasks.py", line 41, in charge_card
    receipt = gateway.charge(customer_id, amount_cents)
  File "/srv/app/billing/gateway.py", line 88, in charge
    raise GatewayError(f"card declined: {reply['code']}")
billing.gateway.GatewayError: card declined: insufficient_funds'''


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end on a fresh loop in another thread (safe from inside
    Playwright's sync API, which owns this thread's loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=60)


@dataclass(slots=True)
class Seeded:
    failed: int
    queued: int
    running: int
    reaped: int
    parent: int
    hostile: int  # args with <script>
    alive_worker: str
    dead_worker: str


def _worker(worker_id: str, host: str, pid: int, queues: list[str], beat: float) -> WorkerInfo:
    return WorkerInfo(id=worker_id, host=host, pid=pid, queues=queues, started_at=beat - 3600,
                      last_heartbeat=beat, state="running")


async def _claim_one(store: Store, worker: str, queue: str) -> Any:
    [job] = await store.claim(worker, [queue], 1)
    return job


async def seed_store(store: Store) -> Seeded:
    now = time.time()
    alive, dead = "w-7f3a@app-1", "w-19c2@app-2"
    await store.register_worker(_worker(alive, "app-1", 4121, ["default", "emails", "billing"],
                                        now))
    await store.register_worker(_worker(dead, "app-2", 977, ["reports"], now - 900))

    # finished history
    specs = [JobSpec(task="mail.send_welcome", queue="emails",
                     kwargs={"to": f"user{i}@example.com"}, request_id=f"req-{i % 3}")
             for i in range(24)]
    done = await store.enqueue_many(specs)
    for job in done:
        claimed = await _claim_one(store, alive, "emails")
        await store.finish_many([Report(claimed.id, claimed.lease or "", Outcome.SUCCEEDED,
                                        result={"message_id": f"<{job.id}@mail>"})])

    # a job that failed twice, with a traceback and a log each time
    [failing] = await store.enqueue_many([JobSpec(
        task="billing.charge_card", queue="billing", max_retries=1,
        kwargs={"customer_id": 4411, "amount_cents": 2599, "api_key": "sk_live_abc123"},
        traceparent=TRACEPARENT, request_id="req-checkout-81f2")])
    for attempt in (1, 2):
        claimed = await _claim_one(store, alive, "billing")
        t0 = time.time()
        await store.append_logs([
            LogLine(failing.id, attempt, t0, "info", "log", "charging customer 4411",
                    {"amount_cents": 2599}),
            LogLine(failing.id, attempt, t0 + 0.01, "info", "stdout", "contacting gateway"),
            LogLine(failing.id, attempt, t0 + 0.2, "warning", "log",
                    "gateway slow to answer (180ms)"),
            LogLine(failing.id, attempt, t0 + 0.3, "error", "log",
                    "card declined: insufficient_funds"),
        ])
        await store.finish_many([Report(
            claimed.id, claimed.lease or "", Outcome.FAILED, error_type="GatewayError",
            error_message="card declined: insufficient_funds", traceback=TRACEBACK,
            retry_at=time.time() if attempt == 1 else None)])

    # a job its worker died holding: the reaper's evidence
    [lost] = await store.enqueue_many([JobSpec(task="reports.monthly", queue="reports",
                                               kwargs={"month": "2026-10"}, max_retries=3)])
    held = await _claim_one(store, dead, "reports")
    await store.heartbeat(dead, [Progress(held.id, held.lease or "", 3, 10, "page 3")],
                          now=now - 900)
    await store.reap(60.0)

    # a DAG: a parent and two children (blocked until it succeeds)
    [parent] = await store.enqueue_many([JobSpec(task="etl.extract", queue="etl",
                                                 run_at=now + 3600)])
    await store.enqueue_many([JobSpec(task="etl.transform", queue="etl", depends_on=[parent.id]),
                              JobSpec(task="etl.load", queue="etl", depends_on=[parent.id])])

    # running, with a log that grows
    [running] = await store.enqueue_many([JobSpec(task="video.transcode", queue="default",
                                                   kwargs={"video_id": 90210}, timeout=600)])
    claimed = await _claim_one(store, alive, "default")
    await store.append_logs([LogLine(running.id, 1, time.time(), "info", "progress",
                                     "transcoding 1080p", {"done": 12, "total": 100})])
    assert claimed.id == running.id
    await store.heartbeat(alive, [Progress(claimed.id, claimed.lease or "", 12, 100,
                                           "transcoding 1080p")])

    # queued (ready) jobs, one with hostile arguments
    queued = await store.enqueue_many([
        JobSpec(task="mail.send_digest", queue="emails", kwargs={"to": "ada@example.com"}),
        JobSpec(task="mail.send_digest", queue="emails",
                args=["<script>alert('x')</script>"], kwargs={"note": "<b>bold</b>"}),
    ])

    # a queue nobody serves: its oldest ready job is over the limit (a degraded verdict)
    await store.enqueue_many([JobSpec(task="images.thumbnail", queue="thumbnails",
                                      args=[f"/uploads/{i}.png"], run_at=now - 420 + i)
                              for i in range(3)])

    # an hour of per-minute figures
    minute = int(now // 60)
    rows = []
    for back in range(60):
        row = MinuteStats(minute=minute - back, queue="emails",
                          succeeded=40 + (back * 7) % 23, failed=(back * 5) % 4,
                          retried=(back * 3) % 2)
        for i in range(row.succeeded):  # mostly quick, a slow tail that grows and shrinks
            slow = i % 20 == 0
            row.add_wait((0.8 + (back % 12) * 0.4) if slow else 0.003 * (1 + (i * back) % 30))
        rows.append(row)
        rows.append(MinuteStats(minute=minute - back, queue="billing",
                                succeeded=5 + back % 3, failed=1 if back % 10 == 0 else 0))
    await store.record_stats(rows)
    return Seeded(failed=failing.id, queued=queued[0].id, running=running.id, reaped=lost.id,
                  parent=parent.id, hostile=queued[1].id, alive_worker=alive, dead_worker=dead)


async def _seed(url: str) -> Seeded:
    store = store_from_url(url)
    await store.open()
    try:
        return await seed_store(store)
    finally:
        await store.close()


def seed(url: str) -> Seeded:
    return run(_seed(url))


async def _with_store(url: str, work: Any) -> Any:
    store = store_from_url(url)
    await store.open()
    try:
        return await work(store)
    finally:
        await store.close()


def with_store(url: str, work: Any) -> Any:
    """`work(store)` on a store of its own, from synchronous test code."""
    return run(_with_store(url, work))


def make_token(url: str, name: str, scope: Scope) -> str:
    secret = new_token()
    with_store(url, lambda s: s.create_token(name, scope, hash_token(secret)))
    return secret


class Server:
    """The API and dashboard on uvicorn, in a thread, on a free loopback port."""

    def __init__(self, url: str, settings: WebSettings | None = None) -> None:
        self.app = jobglass.App(url)
        settings = settings or WebSettings(trace_url=TRACE_URL)
        config = uvicorn.Config(create_app(self.app, settings),
                                lifespan="on", log_config=None, access_log=False,
                                log_level="warning")
        self.server = uvicorn.Server(config)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)  # connections wait in the backlog until uvicorn accepts
        host, port = self.sock.getsockname()[:2]
        self.base = f"http://{host}:{port}"
        self.thread = threading.Thread(target=self._run, name="dashboard-server", daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()
