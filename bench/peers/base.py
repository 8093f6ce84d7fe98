"""What every adapter shares; stdlib only, so it imports under both venvs.

An adapter is a module of bench/peers/ with a class `Adapter(Base)` and, run as
`python -m bench.peers.<name> worker --kind noop|sleep|mark --concurrency C`,
ONE worker process of its system. The driver (bench/peers/driver.py) runs the
workloads against it from the outside: it enqueues with the system's own client,
starts the worker as a child process, and asks the system's own storage how many
jobs are still pending (queued or in progress).

Tasks, the same for every system:
- noop: returns None.
- sleep: sleeps 10 ms (asyncio.sleep where the system runs async tasks,
  time.sleep on a thread pool where it runs sync ones).
- mark(port): sends time.time() in one UDP datagram to 127.0.0.1:port the moment
  the task's code starts; the driver measures enqueue-call -> task-start with it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
PG_URL = os.environ.get("JOBGLASS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SLEEP = 0.010


def send_mark(port: int) -> None:
    """The body of the `mark` task: say when the task's code began."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(repr(time.time()).encode(), ("127.0.0.1", int(port)))


def rss_kb(pid: int) -> int | None:
    """VmRSS of a process, in KiB (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Base:
    """The interface the driver uses; each adapter overrides what it has."""

    name = "?"
    storage = "?"  # sqlite | postgres | redis
    # Concurrency of ONE worker process per workload kind; None = the adapter's own.
    drain_concurrency = 100
    sleep_concurrency = 50
    latency_concurrency = 10
    batch_size = 1000
    batch_na: str | None = None  # why batched enqueue is not available
    sleep_na: str | None = None  # why the sleep workload cannot run as asked

    def setup(self) -> None:
        """Fresh, empty storage for one workload (called before open)."""

    def open(self) -> None:
        """Connect the producer (outside any timing)."""

    def close(self) -> None:
        """Disconnect the producer."""

    def teardown(self) -> None:
        """Remove whatever setup made (schemas, keys, files)."""

    def enqueue_one(self, kind: str, *args: object) -> None:
        raise NotImplementedError

    def enqueue_batch(self, kind: str, n: int) -> None:
        raise NotImplementedError

    def prefill(self, kind: str, n: int) -> None:
        """Put n jobs in the queue as fast as the system allows (not timed)."""
        if self.batch_na is None:
            for start in range(0, n, self.batch_size):
                self.enqueue_batch(kind, min(self.batch_size, n - start))
        else:
            for _ in range(n):
                self.enqueue_one(kind)

    def pending(self) -> int:
        """Jobs queued or in progress, as the system's own storage says."""
        raise NotImplementedError

    def worker_argv(self, kind: str, concurrency: int) -> list[str]:
        return [sys.executable, "-m", f"bench.peers.{self.name}", "worker",
                "--kind", kind, "--concurrency", str(concurrency)]

    def worker_env(self) -> dict[str, str]:
        return {}

    def worker_pid(self, proc: subprocess.Popen[bytes]) -> int:
        """The process whose RSS is the worker's (the child itself, unless it forks one)."""
        return proc.pid


def parse_worker_args(argv: Sequence[str] | None = None) -> tuple[str, int]:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["worker"])
    parser.add_argument("--kind", choices=["noop", "sleep", "mark"], default="noop")
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args(argv)
    return args.kind, args.concurrency


def redis_db() -> int:
    return int(REDIS_URL.rsplit("/", 1)[1])
