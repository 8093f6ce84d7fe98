"""Lifecycle events as log lines, at the level the table in `observe.logs` gives
(overridable per event by configuration)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from jobglass.model import Job
from jobglass.observe import events as ev
from jobglass.observe.logs import get_logger
from jobglass.observe.observer import Observer

DEFAULT_LEVELS: dict[str, int] = {
    "JobEnqueued": logging.INFO,
    "JobClaimed": logging.DEBUG,
    "JobStarted": logging.INFO,
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
    return fields


def event_fields(event: ev.Event) -> dict[str, Any]:
    """The event's own fields, flattened for a log line."""
    fields: dict[str, Any] = {}
    for item in dataclasses.fields(event):
        name = item.name
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
        self.log = get_logger("jobglass.events")

    def handle(self, event: ev.Event) -> None:
        kind = type(event).__name__
        level = self.levels.get(kind, logging.INFO)
        if not self.log.isEnabledFor(level):
            return  # the common DEBUG events cost one dict lookup and one check
        self.log.log(level, MESSAGES.get(kind, kind), event_type=kind, **event_fields(event))
