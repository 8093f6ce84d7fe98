"""SAQ on Redis: one `saq.Worker` (concurrency 100 for no-ops, 50 for the sleep
workload), defaults otherwise. A job stays in the `active` list until it finishes;
the sweeper re-queues jobs whose worker stopped heartbeating."""

from __future__ import annotations

import asyncio
from typing import Any

from saq import Queue, Worker

from bench.peers import redis_util
from bench.peers.base import REDIS_URL, SLEEP, Base, parse_worker_args, send_mark


async def noop(ctx: dict[str, Any]) -> None:
    return None


async def sleep(ctx: dict[str, Any]) -> None:
    await asyncio.sleep(SLEEP)


async def mark(ctx: dict[str, Any], *, port: int) -> None:
    send_mark(port)


def _queue() -> Queue:
    return Queue.from_url(REDIS_URL, name="bench")


class Adapter(Base):
    name = "saq_redis"
    storage = "redis"
    batch_na = "SAQ has no bulk enqueue (queue.map enqueues one by one and waits)"

    def setup(self) -> None:
        redis_util.flush()
        self.loop = asyncio.new_event_loop()
        self.queue = _queue()
        self.loop.run_until_complete(self.queue.connect())

    def enqueue_one(self, kind: str, *args: object) -> None:
        kwargs = {"port": args[0]} if args else {}
        self.loop.run_until_complete(self.queue.enqueue(kind, **kwargs))

    def prefill(self, kind: str, n: int) -> None:
        async def fill() -> None:
            for start in range(0, n, 500):
                await asyncio.gather(*(self.queue.enqueue(kind)
                                       for _ in range(min(500, n - start))))
        self.loop.run_until_complete(fill())

    def pending(self) -> int:
        async def count() -> int:
            return await self.queue.count("queued") + await self.queue.count("active")
        return self.loop.run_until_complete(count())

    def teardown(self) -> None:
        self.loop.run_until_complete(self.queue.disconnect())
        self.loop.close()
        redis_util.flush()


def main() -> None:
    _kind, concurrency = parse_worker_args()

    async def run() -> None:
        worker = Worker(_queue(), functions=[noop, sleep, mark], concurrency=concurrency)
        await worker.start()

    asyncio.run(run())


if __name__ == "__main__":
    from bench.peers.saq_redis import main as _main

    _main()
