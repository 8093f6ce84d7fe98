"""Dramatiq on Redis: one process running `dramatiq.Worker` (8 threads, Dramatiq's
default, for no-ops and latency; 50 for the sleep workload). Messages are acked
after the actor returns (they stay in the queue's `.msgs` hash until then)."""

from __future__ import annotations

import signal
import threading
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from bench.peers import redis_util
from bench.peers.base import REDIS_URL, SLEEP, Base, parse_worker_args, send_mark

broker = RedisBroker(url=REDIS_URL)
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name="bench", max_retries=0)
def noop() -> None:
    return None


@dramatiq.actor(queue_name="bench", max_retries=0)
def sleep() -> None:
    time.sleep(SLEEP)


@dramatiq.actor(queue_name="bench", max_retries=0)
def mark(port: int) -> None:
    send_mark(port)


TASKS = {"noop": noop, "sleep": sleep, "mark": mark}


class Adapter(Base):
    name = "dramatiq_redis"
    storage = "redis"
    drain_concurrency = 8
    latency_concurrency = 8
    batch_na = "Dramatiq has no bulk enqueue (a group enqueues message by message)"

    def setup(self) -> None:
        redis_util.flush()
        self.r = redis_util.client()

    def enqueue_one(self, kind: str, *args: object) -> None:
        TASKS[kind].send(*args)

    def pending(self) -> int:
        return int(self.r.hlen("dramatiq:bench.msgs"))

    def teardown(self) -> None:
        redis_util.flush()


def main() -> None:
    _kind, concurrency = parse_worker_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = dramatiq.Worker(broker, worker_threads=concurrency)
    worker.start()
    stop.wait()
    worker.stop()


if __name__ == "__main__":  # run the copy imported by name, so actors match the producer's
    from bench.peers.dramatiq_redis import main as _main

    _main()
