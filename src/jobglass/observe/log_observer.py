"""Lifecycle events as log lines, at the level the table in `observe.logs` gives
(overridable per event by configuration)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from jobglass.model import Job
from jobglass.observe import events as ev
from jobglass.observe.logs import event_logger
from jobglass.observe.observer import Observer

DEFAULT_LEVELS: dict[str, int] = {
    "JobEnqueued": logging.INFO,
    "JobClaimed": logging.DEBUG,
    "JobStarted": logging.DEBUG,  # the end line says when it started and how long it waited
    "JobProgress": logging.DEBUG,
    "JobRetrying": logging.INFO,
    "JobSucceeded": logging.INFO,
    "JobFailed": logging.ERROR,
    "JobCancelled": logging.INFO,
    "JobInterrupted": logging.INFO,
    "JobReaped": logging.WARNING,
    "StaleReport": logging.WARNING,
    "WorkerStarted": logging.INFO,
    "WorkerHeartbeat": logging.DEBUG,
    "WorkerStopped": logging.INFO,
    "WorkerLost": logging.WARNING,
    "TaskEvent": logging.INFO,
}

MESSAGES: dict[str, str] = {
    "JobEnqueued": "job enqueued",
    "JobClaimed": "job claimed",
    "JobStarted": "job started",
    "JobProgress": "job progress",
    "JobRetrying": "job failed, will retry",
    "JobSucceeded": "job succeeded",
    "JobFailed": "job failed permanently",
    "JobCancelled": "job cancelled",
    "JobInterrupted": "job interrupted by shutdown, re-queued",
    "JobReaped": "job reaped from a dead worker",
    "StaleReport": "stale report ignored",
    "WorkerStarted": "worker started",
    "WorkerHeartbeat": "worker heartbeat",
    "WorkerStopped": "worker stopped",
    "WorkerLost": "worker lost: silent past its lease",
    "TaskEvent": "task event",
}


def job_fields(job: Job) -> dict[str, Any]:
    fields: dict[str, Any] = {"job_id": job.id, "task": job.task, "queue": job.queue,
                              "attempt": job.attempt}
    if job.request_id:
        fields["request_id"] = job.request_id
    if job.started_at is not None and job.attempt:
        fields["queue_wait_s"] = round(max(0.0, job.started_at - job.run_at), 6)
    return fields


_FIELD_NAMES: dict[type[ev.Event], tuple[str, ...]] = {}


def event_fields(event: ev.Event) -> dict[str, Any]:
    """The event's own fields, flattened for a log line."""
    kind = type(event)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(event))
    fields: dict[str, Any] = {}
    for name in names:
        value = getattr(event, name)
        if isinstance(value, Job):
            fields.update(job_fields(value))
        elif name == "attempt" and value is not None and not isinstance(value, int):
            fields["evidence"] = value.evidence
            fields["error"] = value.error_message
        elif name == "fields" and isinstance(value, dict):
            fields.update(value)
        elif name == "duration":
            fields["duration_s"] = round(value, 6)
        elif value is not None:
            fields[name] = value.value if hasattr(value, "value") else value
    return fields


class LogObserver(Observer):
    def __init__(self, levels: Mapping[str, int] | None = None) -> None:
        self.levels = {**DEFAULT_LEVELS, **(levels or {})}
        # Per event type: the bound level method to call and the line's message, or
        # None below the level. Built for one logger; `configure_logging` swapping the
        # logger (a new level or stream) starts a new table.
        self._lines: dict[type[ev.Event], tuple[Callable[..., Any], str] | None] = {}
        self._for: Any = None

    def _line(self, kind: type[ev.Event]) -> tuple[Callable[..., Any], str] | None:
        log = event_logger()
        if log is not self._for:
            self._for = log
            self._lines.clear()
        try:
            return self._lines[kind]
        except KeyError:
            pass
        level = self.levels.get(kind.__name__, logging.INFO)
        line = None
        if log.is_enabled_for(level):
            method = getattr(log, logging.getLevelName(level).lower(), None)
            line = (method if method is not None else partial(log.log, level),
                    MESSAGES.get(kind.__name__, kind.__name__))
        self._lines[kind] = line
        return line

    def wants(self, kind: type[ev.Event]) -> bool:
        return self._line(kind) is not None

    def handle(self, event: ev.Event) -> None:
        kind = type(event)
        line = self._line(kind)
        if line is None:
            return  # the common DEBUG events cost a lookup
        write, message = line
        write(message, event_type=kind.__name__, **event_fields(event))
