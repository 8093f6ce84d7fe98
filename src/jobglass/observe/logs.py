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

import logging
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor

JOB_FIELDS = ("job_id", "task", "queue", "attempt", "worker_id")


def _drop_color_message(_: Any, __: str, event: EventDict) -> EventDict:
    event.pop("color_message", None)  # uvicorn duplicates its message with ANSI codes
    return event


def shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
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
    renderer: Processor = (structlog.processors.JSONRenderer() if fmt == "json"
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
    root.setLevel(getattr(logging, level.upper(), logging.INFO))


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
