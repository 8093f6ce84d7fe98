"""Celery on Redis: one worker process (solo pool for no-ops and latency, a
50-thread pool for the sleep workload), task_acks_late=True (acknowledged after
completion; until then the message sits in kombu's `unacked` hash), results ignored
(no result backend), prefetch multiplier left at its default 4."""

from __future__ import annotations

import time

from celery import Celery

from bench.peers import redis_util
from bench.peers.base import REDIS_URL, SLEEP, Base, parse_worker_args, send_mark

app = Celery("bench", broker=REDIS_URL)
app.conf.update(task_acks_late=True, task_ignore_result=True, worker_hijack_root_logger=False,
                broker_connection_retry_on_startup=True, task_default_queue="bench",
                worker_send_task_events=False)


@app.task(name="bench.noop")
def noop() -> None:
    return None


@app.task(name="bench.sleep")
def sleep() -> None:
    time.sleep(SLEEP)


@app.task(name="bench.mark")
def mark(port: int) -> None:
    send_mark(port)


TASKS = {"noop": noop, "sleep": sleep, "mark": mark}


class Adapter(Base):
    name = "celery_redis"
    storage = "redis"
    drain_concurrency = 1  # solo pool
    latency_concurrency = 1
    batch_na = "Celery has no bulk enqueue (apply_async per message)"

    def setup(self) -> None:
        redis_util.flush()
        self.r = redis_util.client()

    def enqueue_one(self, kind: str, *args: object) -> None:
        TASKS[kind].apply_async(args)

    def prefill(self, kind: str, n: int) -> None:
        with app.producer_or_acquire() as producer:
            for _ in range(n):
                TASKS[kind].apply_async((), producer=producer)

    def pending(self) -> int:
        pipe = self.r.pipeline()
        pipe.llen("bench")
        pipe.hlen("unacked")
        queued, unacked = pipe.execute()
        return int(queued) + int(unacked)

    def teardown(self) -> None:
        redis_util.flush()


def main() -> None:
    _kind, concurrency = parse_worker_args()
    pool = ["-P", "threads", "-c", str(concurrency)] if concurrency > 1 else ["-P", "solo"]
    app.worker_main(["worker", "-Q", "bench", "--loglevel", "WARNING", "--without-gossip",
                     "--without-mingle", "--without-heartbeat", *pool])


if __name__ == "__main__":  # run the copy imported by name, so task names match the producer's
    from bench.peers.celery_redis import main as _main

    _main()
