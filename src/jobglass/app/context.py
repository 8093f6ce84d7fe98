"""What a running task sees of itself: ids, a cancellation signal, progress."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from jobglass.model import Job


@dataclass(slots=True)
class ProgressReport:
    done: float | None = None
    total: float | None = None
    message: str | None = None


class Context:
    """Passed to a task whose first parameter is named `ctx` or typed `Context`."""

    def __init__(self, job: Job, worker_id: str) -> None:
        self.job = job
        self.worker_id = worker_id
        self._cancel = threading.Event()
        self._cancel_reason: str | None = None
        self.latest_progress = ProgressReport()

    @property
    def job_id(self) -> int:
        return self.job.id

    @property
    def attempt(self) -> int:
        return self.job.attempt

    @property
    def queue(self) -> str:
        return self.job.queue

    @property
    def task(self) -> str:
        return self.job.task

    @property
    def cancelled(self) -> bool:
        """True once the job was cancelled, timed out or the worker is shutting down.

        Sync tasks should check it between steps; async tasks are cancelled for them.
        """
        return self._cancel.is_set()

    @property
    def cancel_reason(self) -> str | None:
        return self._cancel_reason

    def request_cancel(self, reason: str) -> None:
        if not self._cancel.is_set():
            self._cancel_reason = reason
            self._cancel.set()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Block (sync tasks) until cancelled or `timeout`; True if cancelled."""
        return self._cancel.wait(timeout)

    async def sleep(self, seconds: float) -> None:
        """An async sleep that a cancellation interrupts (it is raised as CancelledError)."""
        await asyncio.sleep(seconds)

    def progress(self, done: float, total: float | None = None, message: str | None = None
                 ) -> None:
        """Record how far the task got; stored with the next heartbeat."""
        self.latest_progress = ProgressReport(done, total, message)
