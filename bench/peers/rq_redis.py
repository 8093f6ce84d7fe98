"""RQ on Redis: one `rq.Worker` (the default class: it forks a work horse per job;
one job at a time per worker process, so the sleep workload runs at concurrency 1).
A job stays in the StartedJobRegistry until it finishes; a worker that dies leaves
it to be marked abandoned/failed, not re-run (no at-least-once)."""

from __future__ import annotations

import time

from redis import Redis
from rq import Queue, Worker
from rq.registry import StartedJobRegistry

from bench.peers import redis_util
from bench.peers.base import SLEEP, Base, parse_worker_args, send_mark


def noop() -> None:
    return None


def sleep() -> None:
    time.sleep(SLEEP)


def mark(port: int) -> None:
    send_mark(port)


TASKS = {"noop": noop, "sleep": sleep, "mark": mark}


class Adapter(Base):
    name = "rq_redis"
    storage = "redis"
    drain_concurrency = 1
    sleep_concurrency = 1
    latency_concurrency = 1

    def setup(self) -> None:
        redis_util.flush()
        self.r: Redis = redis_util.client()
        self.q = Queue("bench", connection=self.r)
        self.started = StartedJobRegistry(queue=self.q)

    def enqueue_one(self, kind: str, *args: object) -> None:
        self.q.enqueue(TASKS[kind], *args)

    def enqueue_batch(self, kind: str, n: int) -> None:
        func = TASKS[kind]
        self.q.enqueue_many([Queue.prepare_data(func) for _ in range(n)])

    def pending(self) -> int:
        return int(self.q.count) + int(self.started.count)

    def teardown(self) -> None:
        redis_util.flush()


def main() -> None:
    parse_worker_args()
    r = redis_util.client()
    Worker([Queue("bench", connection=r)], connection=r).work(logging_level="WARNING")


if __name__ == "__main__":  # run the copy imported by name, so job paths match the producer's
    from bench.peers.rq_redis import main as _main

    _main()
