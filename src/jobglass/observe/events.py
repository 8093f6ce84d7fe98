"""One typed event per job transition and per worker change.

| event | when | fields |
|---|---|---|
| JobEnqueued | a job was stored | job |
| JobClaimed | a worker took it (state running) | job, worker_id |
| JobStarted | its code began to run | job, worker_id |
| JobProgress | the task reported progress (sent with the heartbeat) | job, done, total, message |
| JobRetrying | an attempt failed and the job waits for `retry_at` | job, error_type, error, retry_at, outcome |
| JobSucceeded | the task returned | job, duration |
| JobFailed | no retry left, or the task asked not to retry | job, error_type, error, outcome, duration |
| JobCancelled | cancelled while running (cancels of waiting jobs come from the store) | job, reason, duration |
| JobInterrupted | the worker shut down and put it back | job, duration |
| JobReaped | its worker died; the attempt ended `lost` | job, attempt, requeued |
| StaleReport | a worker reported on a job it no longer holds; ignored | job_id, lease, outcome |
| WorkerStarted / WorkerHeartbeat / WorkerStopped | worker life | worker_id, ... |
| WorkerLost | the reaper found a worker silent past its lease while it held jobs | worker_id, evidence |
| TaskEvent | a task's own `ctx.emit(name, **fields)` | job, name, fields |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from jobglass.model import Attempt, Job, Outcome


@dataclass(slots=True)
class Event:
    handler: ClassVar[str] = "on_event"


@dataclass(slots=True)
class JobEnqueued(Event):
    handler: ClassVar[str] = "on_job_enqueued"
    job: Job


@dataclass(slots=True)
class JobClaimed(Event):
    handler: ClassVar[str] = "on_job_claimed"
    job: Job
    worker_id: str


@dataclass(slots=True)
class JobStarted(Event):
    handler: ClassVar[str] = "on_job_started"
    job: Job
    worker_id: str


@dataclass(slots=True)
class JobProgress(Event):
    handler: ClassVar[str] = "on_job_progress"
    job: Job
    done: float | None
    total: float | None
    message: str | None


@dataclass(slots=True)
class JobRetrying(Event):
    handler: ClassVar[str] = "on_job_retrying"
    job: Job
    outcome: Outcome
    error_type: str | None
    error: str | None
    retry_at: float
    duration: float


@dataclass(slots=True)
class JobSucceeded(Event):
    handler: ClassVar[str] = "on_job_succeeded"
    job: Job
    duration: float


@dataclass(slots=True)
class JobFailed(Event):
    handler: ClassVar[str] = "on_job_failed"
    job: Job
    outcome: Outcome
    error_type: str | None
    error: str | None
    duration: float


@dataclass(slots=True)
class JobCancelled(Event):
    handler: ClassVar[str] = "on_job_cancelled"
    job: Job
    reason: str | None
    duration: float = 0.0


@dataclass(slots=True)
class JobInterrupted(Event):
    handler: ClassVar[str] = "on_job_interrupted"
    job: Job
    duration: float = 0.0


@dataclass(slots=True)
class JobReaped(Event):
    handler: ClassVar[str] = "on_job_reaped"
    job: Job
    attempt: Attempt
    requeued: bool


@dataclass(slots=True)
class StaleReport(Event):
    handler: ClassVar[str] = "on_stale_report"
    job_id: int
    lease: str
    outcome: Outcome


@dataclass(slots=True)
class WorkerStarted(Event):
    handler: ClassVar[str] = "on_worker_started"
    worker_id: str
    queues: list[str]
    concurrency: int


@dataclass(slots=True)
class WorkerHeartbeat(Event):
    handler: ClassVar[str] = "on_worker_heartbeat"
    worker_id: str
    running: int


@dataclass(slots=True)
class WorkerStopped(Event):
    handler: ClassVar[str] = "on_worker_stopped"
    worker_id: str
    reason: str


@dataclass(slots=True)
class WorkerLost(Event):
    handler: ClassVar[str] = "on_worker_lost"
    worker_id: str
    evidence: dict[str, Any]


@dataclass(slots=True)
class TaskEvent(Event):
    handler: ClassVar[str] = "on_task_event"
    job: Job
    name: str
    fields: dict[str, Any] = field(default_factory=dict)
