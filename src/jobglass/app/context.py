"""What a running task sees of itself: ids, a cancellation signal, progress."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobglass.model import Job


@dataclass(slots=True)
class ProgressReport:
    done: float | None = None
    total: float | None = None
    message: str | None = None


LineWriter = Callable[[str, str, str, "dict[str, Any] | None"], None]
"""(level, stream, message, fields) -> stores one line in the attempt's log."""

_process_log = logging.getLogger("jobglass.task")
_event_lock = threading.Lock()


class TaskLog:
    """`ctx.log`: lines stored with the attempt (see `jobglass logs ID`) and echoed to
    the process log with the job's ids."""

    def __init__(self) -> None:
        self.writer: LineWriter | None = None

    def _line(self, level: str, stream: str, message: str, fields: dict[str, Any]) -> None:
        if self.writer is not None:
            self.writer(level, stream, message, fields or None)
        _process_log.log(logging.getLevelName(level.upper()), message, extra={"fields": fields})

    def debug(self, message: str, **fields: Any) -> None:
        self._line("debug", "log", message, fields)

    def info(self, message: str, **fields: Any) -> None:
        self._line("info", "log", message, fields)

    def warning(self, message: str, **fields: Any) -> None:
        self._line("warning", "log", message, fields)

    def error(self, message: str, **fields: Any) -> None:
        self._line("error", "log", message, fields)

    def stats(self, values: dict[str, Any]) -> None:
        """Numbers worth keeping with the attempt (rows read, pages built ...)."""
        self._line("info", "stats", "stats", dict(values))


class Context:
    """Passed to a task whose first parameter is named `ctx` or typed `Context`."""

    def __init__(self, job: Job, worker_id: str) -> None:
        self.job = job
        self.worker_id = worker_id
        # The Event is made only if a sync task waits on it: most jobs never need one.
        self._cancelled = False
        self._cancel_event: threading.Event | None = None
        self._cancel_reason: str | None = None
        self.latest_progress = ProgressReport()
        self.log = TaskLog()
        self.emitter: Callable[[str, dict[str, Any]], None] | None = None

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
        return self._cancelled

    @property
    def cancel_reason(self) -> str | None:
        return self._cancel_reason

    def request_cancel(self, reason: str) -> None:
        with _event_lock:
            if self._cancelled:
                return
            self._cancel_reason = reason
            self._cancelled = True
            if self._cancel_event is not None:
                self._cancel_event.set()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Block (sync tasks) until cancelled or `timeout`; True if cancelled."""
        with _event_lock:
            if self._cancel_event is None:
                self._cancel_event = threading.Event()
                if self._cancelled:
                    self._cancel_event.set()
            event = self._cancel_event
        return event.wait(timeout)

    async def sleep(self, seconds: float) -> None:
        """An async sleep that a cancellation interrupts (it is raised as CancelledError)."""
        await asyncio.sleep(seconds)

    def progress(self, done: float, total: float | None = None, message: str | None = None
                 ) -> None:
        """Record how far the task got; stored with the next heartbeat and as a log line."""
        self.latest_progress = ProgressReport(done, total, message)
        if self.log.writer is not None:
            of = "" if total is None else f"/{total:g}"
            self.log.writer("info", "progress", f"{done:g}{of} {message or ''}".rstrip(),
                            None)

    def emit(self, name: str, **fields: Any) -> None:
        """A task's own event, on the same bus as lifecycle events (logs, metrics)."""
        if self.emitter is not None:
            self.emitter(name, fields)
