"""jobglass's adapter, for either store: the CLI worker, the sync enqueue API."""

from __future__ import annotations

import sys

import jobglass
from bench.peers.base import Base

TASKS = {"noop": "bench.noop", "sleep": "bench.sleep", "mark": "bench.mark"}


class JobglassBase(Base):
    url = ""
    drain_concurrency = 100

    def open(self) -> None:
        self.app = jobglass.App(self.url)
        self.app.enqueue_specs([])  # open the store (and migrate) outside the timing

    def close(self) -> None:
        self.app.close()

    def enqueue_one(self, kind: str, *args: object) -> None:
        self.app.enqueue(TASKS[kind], *args)

    def enqueue_batch(self, kind: str, n: int) -> None:
        name = TASKS[kind]
        self.app.enqueue_specs([self.app.spec_for(name) for _ in range(n)])

    def worker_argv(self, kind: str, concurrency: int) -> list[str]:
        return [sys.executable, "-m", "jobglass", "worker", "--app",
                "bench.peers.jobglass_app:app", "--concurrency", str(concurrency),
                "--database-url", self.url, "--log-level", "WARNING"]
