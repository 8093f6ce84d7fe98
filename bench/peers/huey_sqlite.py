"""Huey on SQLite: SqliteHuey with its defaults (WAL; synchronous left at SQLite's
default, FULL), a thread-worker consumer. Huey deletes a task from the queue when
it dequeues it (no acknowledgement after completion: a crash loses running tasks)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from huey import SqliteHuey

from bench.peers.base import SLEEP, Base, parse_worker_args, send_mark

_tasks: dict[str, Any] = {}


def make(path: str) -> SqliteHuey:
    huey = SqliteHuey("bench", filename=path)

    @huey.task()
    def noop() -> None:
        return None

    @huey.task()
    def sleep() -> None:
        time.sleep(SLEEP)

    @huey.task()
    def mark(port: int) -> None:
        send_mark(port)

    _tasks.update(noop=noop, sleep=sleep, mark=mark)
    return huey


class Adapter(Base):
    name = "huey_sqlite"
    storage = "sqlite"
    drain_concurrency = 1  # Huey's default consumer: one worker thread
    latency_concurrency = 1
    batch_na = "Huey has no bulk enqueue"

    def setup(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="huey-peers-")
        self.path = str(Path(self.dir) / "huey.db")
        self.huey = make(self.path)

    def worker_env(self) -> dict[str, str]:
        return {"BENCH_HUEY_DB": self.path}

    def enqueue_one(self, kind: str, *args: object) -> None:
        _tasks[kind](*args)

    def prefill(self, kind: str, n: int) -> None:
        # One transaction of Huey's own serialized messages: what n enqueue() calls
        # would store, without n fsyncs (the prefill is not timed).
        rows = [("bench", self.huey.serialize_task(_tasks[kind].s()), 0) for _ in range(n)]
        self.huey.storage.enqueue(self.huey.serialize_task(_tasks[kind].s()))  # tables exist
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        db.execute("BEGIN")
        db.execute("DELETE FROM task")
        db.executemany("INSERT INTO task (queue, data, priority) VALUES (?, ?, ?)", rows)
        db.execute("COMMIT")
        db.close()

    def pending(self) -> int:
        return int(self.huey.storage.queue_size())

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def main() -> None:
    _kind, concurrency = parse_worker_args()
    huey = make(os.environ["BENCH_HUEY_DB"])
    consumer = huey.create_consumer(workers=concurrency, worker_type="thread", periodic=False,
                                    check_worker_health=False)
    consumer.run()


if __name__ == "__main__":  # run the copy imported by name, so task names match the producer's
    from bench.peers.huey_sqlite import main as _main

    _main()
