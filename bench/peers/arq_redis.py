"""arq on Redis: one `arq.Worker` (max_jobs 100 for no-ops, 50 for the sleep
workload), its defaults otherwise: it polls the queue every 0.5 s when idle
(poll_delay), keeps results for an hour, and re-runs a job whose worker died once
its in-progress key expires (acknowledged by deleting it after completion)."""

from __future__ import annotations

import asyncio
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker

from bench.peers import redis_util
from bench.peers.base import REDIS_URL, SLEEP, Base, parse_worker_args, send_mark

SETTINGS = RedisSettings.from_dsn(REDIS_URL)


async def noop(ctx: dict[str, Any]) -> None:
    return None


async def sleep(ctx: dict[str, Any]) -> None:
    await asyncio.sleep(SLEEP)


async def mark(ctx: dict[str, Any], port: int) -> None:
    send_mark(port)


class Adapter(Base):
    name = "arq_redis"
    storage = "redis"
    batch_na = "arq has no bulk enqueue (enqueue_job per job)"

    def setup(self) -> None:
        redis_util.flush()
        self.r = redis_util.client()
        self.loop = asyncio.new_event_loop()
        self.pool = self.loop.run_until_complete(create_pool(SETTINGS))

    def enqueue_one(self, kind: str, *args: object) -> None:
        self.loop.run_until_complete(self.pool.enqueue_job(kind, *args))

    def prefill(self, kind: str, n: int) -> None:
        async def fill() -> None:
            for start in range(0, n, 500):
                await asyncio.gather(*(self.pool.enqueue_job(kind)
                                       for _ in range(min(500, n - start))))
        self.loop.run_until_complete(fill())

    def pending(self) -> int:
        queued = int(self.r.zcard("arq:queue"))
        if queued:
            return queued
        return sum(1 for _ in self.r.scan_iter("arq:in-progress:*", count=10_000))

    def teardown(self) -> None:
        self.loop.run_until_complete(self.pool.aclose())
        self.loop.close()
        redis_util.flush()


def main() -> None:
    _kind, concurrency = parse_worker_args()
    Worker(functions=[noop, sleep, mark], redis_settings=SETTINGS,
           max_jobs=concurrency).run()


if __name__ == "__main__":
    from bench.peers.arq_redis import main as _main

    _main()
