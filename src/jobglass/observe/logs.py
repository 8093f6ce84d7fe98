"""Structured logs: structlog over the stdlib, JSON lines or console text.

Every line — jobglass's own and the stdlib `logging` of user code — passes the
same processors, so the ids bound in contextvars (job_id, task, queue, attempt,
worker_id, request_id, trace_id, span_id) appear on all of them without being
passed by hand.

| what happened | level |
|---|---|
| job enqueued, claimed, started, succeeded, retrying, interrupted, cancelled | INFO |
| job reaped, heartbeat failed, stale report ignored, store unreachable | WARNING |
| job failed for good (retries exhausted or not retryable), observer error | ERROR |
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import sys
import threading
import time
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor

JOB_FIELDS = ("job_id", "task", "queue", "attempt", "worker_id")

# The running attempt's ids: one contextvar set per attempt, merged into a line
# only when a line is written (cheaper than binding five contextvars per job).
job_ids_var: ContextVar[dict[str, Any] | None] = ContextVar("jobglass_job_ids", default=None)

_event_logger: Any = None  # the fast writer for lifecycle lines, once configured


def add_job_ids(_: Any, __: str, event: EventDict) -> EventDict:
    ids = job_ids_var.get()
    if ids:
        for key, value in ids.items():
            event.setdefault(key, value)
    return event


def _json_fallback(value: Any) -> Any:
    return repr(value)


def dumps_json(event: EventDict, **_: Any) -> str:
    """One JSON line; orjson renders a lifecycle line in about a fifth of the stdlib's
    time. Values it cannot encode are written as their repr, keys of any type as text."""
    return orjson.dumps(event, default=_json_fallback,
                        option=orjson.OPT_NON_STR_KEYS).decode()


class UtcTimestamp:
    """structlog processor: `timestamp` as ISO 8601 UTC with microseconds. The date and
    time up to the second are formatted once a second, not once a line."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, _: Any, __: str, event: EventDict) -> EventDict:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        event["timestamp"] = f"{self._prefix}.{int((now - second) * 1e6):06d}Z"
        return event


def _drop_color_message(_: Any, __: str, event: EventDict) -> EventDict:
    event.pop("color_message", None)  # uvicorn duplicates its message with ANSI codes
    return event


def shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        add_job_ids,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        UtcTimestamp(),
        _drop_color_message,
    ]


def configure_logging(fmt: str | None = None, level: str = "INFO",
                      stream: TextIO | None = None,
                      extra_processors: Sequence[Processor] = ()) -> None:
    """`fmt`: "json" or "console"; None picks console on a terminal, JSON otherwise."""
    out = stream or sys.stderr
    if fmt is None:
        fmt = "console" if out.isatty() else "json"
    if fmt not in ("json", "console"):
        raise ValueError(f"log format must be json or console, not {fmt!r}")
    renderer: Processor = (structlog.processors.JSONRenderer(serializer=dumps_json) if fmt == "json"
                           else structlog.dev.ConsoleRenderer(colors=out.isatty()))
    shared = [*shared_processors(), *extra_processors]
    structlog.configure(
        processors=[*shared, structlog.processors.StackInfoRenderer(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(allow=("fields",))],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.set_name("jobglass")
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "jobglass"]
    root.addHandler(handler)
    level_no = getattr(logging, level.upper(), logging.INFO)
    root.setLevel(level_no)
    pool = logging.getLogger("psycopg.pool")
    if pool.level == logging.NOTSET:
        # Its warnings repeat each reconnect attempt of an outage (two a second); the
        # store's own lines say the server is unreachable, why, and when it is back.
        pool.setLevel(logging.ERROR)
    # Lifecycle lines are the hot path (one or more per job): they skip the stdlib
    # LogRecord round trip and go straight to the same stream, already rendered.
    global _event_logger
    _event_logger = structlog.wrap_logger(
        BufferedLineWriter(out),
        processors=[structlog.contextvars.merge_contextvars, add_job_ids,
                    structlog.processors.add_log_level,
                    UtcTimestamp(), *extra_processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
    ).bind(logger="jobglass.events")


class BufferedLineWriter:
    """A structlog logger that writes rendered lines without a flush per line: a
    background thread flushes every `interval` seconds while there is something to
    flush. A flush syscall per line halved the drain rate of no-op jobs; the cost is
    that the last ~quarter second of lifecycle lines may be lost on kill -9 (the
    store still has every transition)."""

    def __init__(self, stream: TextIO, interval: float = 0.25) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._dirty = False
        self._interval = interval
        self._flusher = threading.Thread(target=self._flush_forever, daemon=True,
                                         name="jobglass-log-flush")
        self._flusher.start()
        atexit.register(self.flush)

    def msg(self, message: str) -> None:
        with self._lock:
            self._stream.write(message + "\n")
            self._dirty = True

    log = debug = info = warning = warn = error = critical = exception = failure = fatal = msg

    def flush(self) -> None:
        with self._lock:
            if self._dirty:
                self._dirty = False
                with contextlib.suppress(ValueError, OSError):  # closed at exit
                    self._stream.flush()

    def _flush_forever(self) -> None:
        while True:
            time.sleep(self._interval)
            self.flush()


def event_logger() -> Any:
    """The logger for lifecycle lines: the fast writer once `configure_logging` ran,
    else a stdlib-backed one (whatever the application configured)."""
    return _event_logger if _event_logger is not None else get_logger("jobglass.events")


def _default_setup() -> None:
    """Until someone configures logging, jobglass's structured lines go to the stdlib
    `logging` tree as plain records (fields as `extra`), never to stdout."""
    if not structlog.is_configured():
        structlog.configure(
            processors=[structlog.contextvars.merge_contextvars,
                        structlog.stdlib.render_to_log_kwargs],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
        )


def get_logger(name: str) -> Any:
    _default_setup()
    return structlog.stdlib.get_logger(name)
