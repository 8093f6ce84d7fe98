"""Jobs, attempts, workers and queue figures as plain typed records.

Times are Unix seconds (UTC) as floats everywhere: cheap to compare, to store in
either database and to put in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from jobglass.model.states import JobState

JSONValue = Any
"""Anything `json.dumps` accepts without a `default=` hook."""


class JobKind(StrEnum):
    PYTHON = "python"
    SHELL = "shell"


class Outcome(StrEnum):
    """How one attempt ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMEOUT = "timeout"
    LOST = "lost"  # the reaper found its worker dead
    INTERRUPTED = "interrupted"  # worker shut down; not counted against retries
    CANCELLED = "cancelled"


COUNTED_OUTCOMES: frozenset[Outcome] = frozenset({Outcome.FAILED, Outcome.TIMEOUT, Outcome.LOST})
"""Outcomes that spend one retry from the job's budget."""


@dataclass(slots=True)
class JobSpec:
    """Everything needed to store a new job."""

    task: str
    args: list[JSONValue] = field(default_factory=list)
    kwargs: dict[str, JSONValue] = field(default_factory=dict)
    queue: str = "default"
    priority: int = 0
    run_at: float | None = None  # None: now
    max_retries: int = 3
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    timeout: float | None = None
    unique_key: str | None = None
    depends_on: list[int] = field(default_factory=list)
    kind: JobKind = JobKind.PYTHON
    command: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    request_id: str | None = None


@dataclass(slots=True)
class Job:
    id: int
    task: str
    queue: str
    kind: JobKind
    state: JobState
    args: list[JSONValue]
    kwargs: dict[str, JSONValue]
    priority: int
    run_at: float
    created_at: float
    attempt: int  # attempts started so far; the running one's number
    errors: int  # attempts that spent retry budget
    max_retries: int
    backoff_base: float
    backoff_cap: float
    timeout: float | None = None
    command: str | None = None
    unique_key: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    lease: str | None = None
    worker_id: str | None = None
    result: JSONValue = None
    error: str | None = None
    reason: str | None = None  # why it was cancelled
    cancel_requested: bool = False
    progress_done: float | None = None
    progress_total: float | None = None
    progress_message: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    request_id: str | None = None
    parents: list[int] = field(default_factory=list)

    @property
    def retries_left(self) -> int:
        return max(0, self.max_retries - self.errors)


@dataclass(slots=True)
class Attempt:
    job_id: int
    number: int
    worker_id: str | None
    started_at: float
    ended_at: float | None = None
    outcome: Outcome | None = None  # None while it runs
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    evidence: dict[str, JSONValue] | None = None  # why the reaper called it lost
    trace_id: str | None = None
    # When the job became ready for this attempt (its run_at at the claim: after any
    # delay or backoff). None for attempts stored before the column existed.
    ready_at: float | None = None

    @property
    def queue_wait(self) -> float | None:
        """Seconds the attempt's job was ready but not yet started."""
        return None if self.ready_at is None else max(0.0, self.started_at - self.ready_at)


DEFAULT_LEASE = 30.0  # seconds a worker may stay silent before it counts as dead


def stretched(limit: float, lease: float | None) -> float:
    """A silence limit set for the default lease, as it applies to a worker that runs with
    `lease`: a longer lease (a slower heartbeat) stretches it in proportion, a shorter one
    never tightens it. The reaper alone applies a worker's lease exactly."""
    return limit if lease is None else max(limit, limit * lease / DEFAULT_LEASE)


@dataclass(slots=True)
class WorkerInfo:
    id: str
    host: str
    pid: int
    queues: list[str]
    started_at: float
    last_heartbeat: float
    state: str  # running | stopped | dead
    current_jobs: list[int] = field(default_factory=list)
    jobs_done: int = 0
    evidence: dict[str, JSONValue] | None = None
    # Seconds of silence after which this worker counts as dead: its own setting, so a
    # peer with a shorter lease never reaps it early. None: registered before it was kept.
    lease: float | None = None

    def alive_at(self, now: float, dead_after: float) -> bool:
        """Running and heard from within `dead_after`, stretched to its own lease."""
        return (self.state == "running"
                and now - self.last_heartbeat <= stretched(dead_after, self.lease))


@dataclass(slots=True)
class QueueStats:
    queue: str
    counts: dict[JobState, int]  # active states only; history is not counted here
    oldest_ready_age: float | None  # seconds the oldest ready job has waited since run_at
    paused: bool = False
