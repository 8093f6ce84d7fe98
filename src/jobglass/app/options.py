"""Per-task settings and per-enqueue options."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

from jobglass.app.ambient import current_request_id
from jobglass.model import JobSpec
from jobglass.model.job import JobKind


@dataclass(frozen=True, slots=True)
class TaskOptions:
    queue: str = "default"
    retries: int = 3
    backoff: float = 1.0  # first retry waits about this long; doubles per failure
    backoff_cap: float = 300.0
    timeout: float | None = None
    priority: int = 0  # higher runs first
    retry_on: tuple[type[BaseException], ...] = ()  # empty: every exception retries
    dont_retry_on: tuple[type[BaseException], ...] = ()

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError("retries must be >= 0")
        if self.backoff < 0 or self.backoff_cap < 0:
            raise ValueError("backoff and backoff_cap must be >= 0")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")


@dataclass(frozen=True, slots=True)
class EnqueueOptions:
    """What one enqueue may override; None keeps the task's setting."""

    queue: str | None = None
    priority: int | None = None
    delay: float | None = None
    run_at: float | None = None
    depends_on: tuple[int, ...] = field(default_factory=tuple)
    unique_key: str | None = None
    retries: int | None = None
    timeout: float | None = None
    request_id: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None

    def merged(self, **changes: Any) -> EnqueueOptions:
        return replace(self, **changes)


NO_OPTIONS = EnqueueOptions()
"""The options of an enqueue that overrides nothing (frozen: one instance serves all)."""

# One encoder for every check: json.dumps with a keyword builds a new one per call.
_checker = json.JSONEncoder(allow_nan=False)


def check_json(value: list[Any] | dict[str, Any], what: str) -> None:
    """Arguments must survive JSON unchanged in kind; anything else is a TypeError now,
    at enqueue, rather than a surprise on a worker."""
    if not value:  # most jobs have no args or no kwargs: nothing to check
        return
    try:
        _checker.encode(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be JSON-serialisable: {exc}") from None


def build_spec(task: str, args: tuple[Any, ...], kwargs: dict[str, Any], task_options: TaskOptions,
               options: EnqueueOptions, *, kind: JobKind = JobKind.PYTHON,
               command: str | None = None) -> JobSpec:
    arg_list = list(args)
    check_json(arg_list, f"arguments of {task}")
    check_json(kwargs, f"keyword arguments of {task}")
    if options.delay is not None and options.run_at is not None:
        raise ValueError("give delay or run_at, not both")
    if options.delay is not None and options.delay < 0:
        raise ValueError("delay must not be negative")
    run_at = options.run_at
    if options.delay is not None:
        run_at = time.time() + options.delay
    return JobSpec(
        task=task,
        args=arg_list,
        kwargs=dict(kwargs),
        queue=options.queue or task_options.queue,
        priority=task_options.priority if options.priority is None else options.priority,
        run_at=run_at,
        max_retries=task_options.retries if options.retries is None else options.retries,
        backoff_base=task_options.backoff,
        backoff_cap=task_options.backoff_cap,
        timeout=options.timeout if options.timeout is not None else task_options.timeout,
        unique_key=options.unique_key,
        depends_on=list(options.depends_on),
        kind=kind,
        command=command,
        traceparent=options.traceparent,
        tracestate=options.tracestate,
        request_id=options.request_id or current_request_id(),
    )
