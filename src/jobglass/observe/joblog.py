"""Stored per-attempt job logs: what a task said (`ctx.log`), printed, or logged
through stdlib `logging`, and a shell job's output — each line with time, level
and stream, written in batches and capped per attempt.

The attempt a line belongs to travels in a contextvar, so output from an async
task, a sync task's thread (the pool copies the context) and a shell process all
land in the right attempt without being passed by hand.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import threading
import time
from contextvars import ContextVar
from typing import Any, TextIO

from jobglass.model import Job, LogLine
from jobglass.store import Store
from jobglass.store.cancel import raise_if_cancelled

current_attempt: ContextVar[AttemptLog | None] = ContextVar("jobglass_attempt_log", default=None)
log = logging.getLogger("jobglass.joblog")

TRUNCATED = "log truncated: this attempt reached its limit of {limit} bytes"


class AttemptLog:
    """The log of one running attempt."""

    __slots__ = ("attempt", "job_id", "partial", "sink", "size", "truncated")

    def __init__(self, sink: JobLogSink, job: Job) -> None:
        self.sink = sink
        self.job_id = job.id
        self.attempt = job.attempt
        self.size = 0
        self.truncated = False
        self.partial: dict[str, str] = {}

    def write(self, level: str, stream: str, message: str,
              fields: dict[str, Any] | None = None) -> None:
        if self.truncated:
            return
        size = len(message) + (len(repr(fields)) if fields else 0)
        if self.size + size > self.sink.max_bytes:
            self.truncated = True
            message, level, stream, fields = (TRUNCATED.format(limit=self.sink.max_bytes),
                                              "warning", "system", None)
        self.size += size
        self.sink.add(LogLine(self.job_id, self.attempt, time.time(), level, stream, message,
                              fields))

    def write_text(self, stream: str, text: str) -> None:
        """Raw output (print, a shell's stdout): one stored line per text line."""
        pending = self.partial.get(stream, "") + text
        *lines, rest = pending.split("\n")
        self.partial[stream] = rest
        level = "error" if stream == "stderr" else "info"
        for line in lines:
            self.write(level, stream, line)

    def close(self) -> None:
        for stream, rest in self.partial.items():
            if rest:
                self.write("error" if stream == "stderr" else "info", stream, rest)
        self.partial.clear()


class JobLogSink:
    """Buffers lines from every running attempt and writes them in batches."""

    def __init__(self, store: Store, *, max_bytes: int = 1024 * 1024,
                 interval: float = 0.2, max_buffer: int = 100_000) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self.interval = interval
        self.max_buffer = max_buffer
        self.dropped = 0
        self._lines: list[LogLine] = []
        self._lock = threading.Lock()
        self._flushing = asyncio.Lock()

    def begin(self, job: Job) -> AttemptLog:
        return AttemptLog(self, job)

    def add(self, line: LogLine) -> None:
        with self._lock:
            if len(self._lines) >= self.max_buffer:
                self.dropped += 1  # the store is down and the buffer full: keep the worker alive
                return
            self._lines.append(line)

    async def flush(self) -> None:
        async with self._flushing:
            with self._lock:
                batch, self._lines = self._lines, []
            if not batch:
                return
            try:
                await self.store.append_logs(batch)
            except Exception as exc:
                log.warning("could not store %d job log lines, will retry: %s", len(batch), exc)
                with self._lock:
                    self._lines[:0] = batch

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()
            raise_if_cancelled()


class _StreamRouter(io.TextIOBase):
    """Stands in for sys.stdout/stderr: text written inside a job goes to its log,
    everything else to the real stream."""

    def __init__(self, name: str, real: TextIO) -> None:
        self.name_ = name
        self.real = real

    def write(self, text: str) -> int:
        attempt = current_attempt.get()
        if attempt is None:
            return self.real.write(text)
        attempt.write_text(self.name_, text)
        return len(text)

    def flush(self) -> None:
        self.real.flush()

    def isatty(self) -> bool:
        return self.real.isatty()

    def fileno(self) -> int:
        return self.real.fileno()


class _LoggingCapture(logging.Handler):
    """stdlib `logging` records made inside a job, into the job's log."""

    def emit(self, record: logging.LogRecord) -> None:
        attempt = current_attempt.get()
        if attempt is None or record.name.startswith("jobglass"):
            return
        try:
            if isinstance(record.msg, dict):  # a structlog event dict
                fields = {k: v for k, v in record.msg.items() if not k.startswith("_")}
                message = str(fields.pop("event", ""))
            else:
                fields, message = {"logger": record.name}, record.getMessage()
            if record.exc_info:
                fields["exception"] = logging.Formatter().formatException(record.exc_info)
            attempt.write(record.levelname.lower(), "log", message, fields or None)
        except Exception:
            self.handleError(record)


class OutputCapture:
    """Installs the stdout/stderr routers and the logging handler; undone by `remove`."""

    def __init__(self) -> None:
        self._handler = _LoggingCapture(level=logging.DEBUG)
        self._saved: tuple[TextIO, TextIO] | None = None

    def install(self) -> None:
        if self._saved is not None:
            return
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = _StreamRouter("stdout", sys.stdout)
        sys.stderr = _StreamRouter("stderr", sys.stderr)
        logging.getLogger().addHandler(self._handler)

    def remove(self) -> None:
        if self._saved is None:
            return
        sys.stdout, sys.stderr = self._saved
        self._saved = None
        logging.getLogger().removeHandler(self._handler)
