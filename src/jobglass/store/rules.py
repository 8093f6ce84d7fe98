"""Decisions every backend makes the same way, kept out of the SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobglass.model import JobState, Outcome
from jobglass.model.backoff import backoff_delay
from jobglass.model.job import COUNTED_OUTCOMES
from jobglass.store.protocol import HeartbeatReply, Progress, Report

_END_STATE = {
    Outcome.SUCCEEDED: JobState.SUCCEEDED,
    Outcome.FAILED: JobState.FAILED,
    Outcome.TIMEOUT: JobState.FAILED,
    Outcome.LOST: JobState.FAILED,
    Outcome.CANCELLED: JobState.CANCELLED,
    Outcome.INTERRUPTED: JobState.QUEUED,
}


def target_state(report: Report) -> JobState:
    """Where a running job goes when `report` is applied."""
    if report.retry_at is not None:
        return JobState.QUEUED
    return _END_STATE[report.outcome]


def spends_retry(outcome: Outcome) -> bool:
    return outcome in COUNTED_OUTCOMES


def after_lost(errors: int, max_retries: int, base: float, cap: float, now: float
               ) -> tuple[JobState, float | None]:
    """A reaped job: queued again after backoff while budget remains, else failed.

    `errors` already includes the lost attempt.
    """
    if errors > max_retries:
        return JobState.FAILED, None
    return JobState.QUEUED, now + backoff_delay(errors, base, cap)


def lost_evidence(*, worker_id: str | None, host: str | None, pid: int | None,
                  last_heartbeat: float | None, worker_state: str | None,
                  lease_seconds: float, now: float) -> dict[str, Any]:
    age = None if last_heartbeat is None else round(now - last_heartbeat, 3)
    return {
        "worker_id": worker_id,
        "host": host,
        "pid": pid,
        "worker_state": worker_state,
        "last_heartbeat_age_s": age,
        "lease_s": lease_seconds,
        "reaped_at": now,
    }


def lost_message(evidence: dict[str, Any]) -> str:
    if evidence["worker_id"] is None or evidence["last_heartbeat_age_s"] is None:
        return f"no worker row for the running job; reaped after {evidence['lease_s']}s lease"
    return (
        f"worker {evidence['worker_id']} (host {evidence['host']}, pid {evidence['pid']}) "
        f"silent for {evidence['last_heartbeat_age_s']}s, past the {evidence['lease_s']}s lease"
    )


def heartbeat_reply(running: Sequence[Progress],
                    held: Sequence[tuple[int, str | None, bool, float]]) -> HeartbeatReply:
    """Compare what a worker says it runs with what the store says it holds
    (id, lease, cancel requested, started at)."""
    by_id = {job_id: (lease, cancel) for job_id, lease, cancel, _ in held}
    listed = {p.job_id for p in running}
    reply = HeartbeatReply()
    for p in running:
        lease, cancel = by_id.get(p.job_id, (None, False))
        if lease != p.lease:
            reply.lost.append(p.job_id)
        elif cancel:
            reply.cancel.append(p.job_id)
    reply.unlisted = [(job_id, lease or "", started) for job_id, lease, _, started in held
                      if job_id not in listed]
    return reply
