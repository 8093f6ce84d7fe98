"""The job state machine, written down once.

```mermaid
stateDiagram-v2
    [*] --> blocked: enqueue with unfinished parents
    [*] --> queued: enqueue
    blocked --> queued: every parent succeeded
    blocked --> cancelled: cancel, or a parent failed / was cancelled
    queued --> running: claim
    queued --> cancelled: cancel
    running --> succeeded: task returned
    running --> queued: retry later, reaped, interrupted by shutdown
    running --> failed: retries exhausted, or the task asked not to retry
    running --> cancelled: cancel signal honoured
    failed --> queued: manual retry
    cancelled --> queued: manual retry
    failed --> blocked: manual retry, a parent has not succeeded
    cancelled --> blocked: manual retry, a parent has not succeeded
```

A retry is `queued` with a later `run_at`; "scheduled" and "retrying" are views.
Every store builds the `WHERE state IN (...)` of its compare-and-set updates from
`sources_of`, so the SQL cannot drift from this table.
"""

from __future__ import annotations

from enum import StrEnum

from jobglass.model.errors import IllegalTransition


class JobState(StrEnum):
    BLOCKED = "blocked"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.BLOCKED: frozenset({JobState.QUEUED, JobState.CANCELLED}),
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.CANCELLED}),
    JobState.RUNNING: frozenset(
        {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.QUEUED}
    ),
    JobState.SUCCEEDED: frozenset(),
    # A person's retry: queued, or blocked again while some parent has not succeeded.
    JobState.FAILED: frozenset({JobState.QUEUED, JobState.BLOCKED}),
    JobState.CANCELLED: frozenset({JobState.QUEUED, JobState.BLOCKED}),
}

TERMINAL: frozenset[JobState] = frozenset(
    {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}
)
"""States a job rests in until a person acts (succeeded, failed, cancelled)."""

ACTIVE: frozenset[JobState] = frozenset(JobState) - TERMINAL
"""blocked, queued, running: the states that hold a unique key and count as work."""


def is_legal(source: JobState, target: JobState) -> bool:
    return target in TRANSITIONS[source]


def check_transition(source: JobState, target: JobState) -> None:
    """Raise `IllegalTransition` unless `source -> target` is in the table."""
    if not is_legal(source, target):
        raise IllegalTransition(source.value, target.value)


def sources_of(target: JobState) -> tuple[JobState, ...]:
    """Every state from which `target` may be entered, in a stable order."""
    return tuple(s for s in JobState if target in TRANSITIONS[s])
