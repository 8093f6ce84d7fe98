"""Records to the JSON the API returns. Argument keys that look secret are redacted
here, so no route can forget to."""

from __future__ import annotations

from typing import Any

from jobglass.model import Attempt, Job, QueueStats, WorkerInfo
from jobglass.model.health import Throughput
from jobglass.observe.redact import Redactor


def job_json(job: Job, redact: Redactor) -> dict[str, Any]:
    progress = None
    if job.progress_done is not None or job.progress_message is not None:
        progress = {"done": job.progress_done, "total": job.progress_total,
                    "message": job.progress_message}
    return {
        "id": job.id, "task": job.task, "queue": job.queue, "kind": job.kind.value,
        "state": job.state.value, "args": redact(job.args), "kwargs": redact(job.kwargs),
        "command": job.command, "priority": job.priority, "run_at": job.run_at,
        "created_at": job.created_at, "started_at": job.started_at,
        "finished_at": job.finished_at, "attempt": job.attempt, "errors": job.errors,
        "max_retries": job.max_retries, "retries_left": job.retries_left,
        "timeout": job.timeout, "unique_key": job.unique_key, "worker_id": job.worker_id,
        "result": redact(job.result), "error": job.error, "reason": job.reason,
        "cancel_requested": job.cancel_requested, "progress": progress,
        "depends_on": list(job.parents), "request_id": job.request_id,
        "traceparent": job.traceparent,
    }


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number, "worker_id": attempt.worker_id,
        "started_at": attempt.started_at, "ended_at": attempt.ended_at,
        "outcome": attempt.outcome.value if attempt.outcome else None,
        "error_type": attempt.error_type, "error_message": attempt.error_message,
        "traceback": attempt.traceback, "evidence": attempt.evidence,
        "trace_id": attempt.trace_id, "ready_at": attempt.ready_at,
        "queue_wait_s": attempt.queue_wait,
    }


def worker_json(worker: WorkerInfo, now: float, dead_after: float) -> dict[str, Any]:
    age = max(0.0, now - worker.last_heartbeat)
    return {
        "id": worker.id, "state": worker.state,
        "alive": worker.alive_at(now, dead_after), "lease": worker.lease,
        "host": worker.host, "pid": worker.pid, "queues": list(worker.queues),
        "started_at": worker.started_at, "last_heartbeat": worker.last_heartbeat,
        "heartbeat_age": round(age, 3), "current_jobs": list(worker.current_jobs),
        "jobs_done": worker.jobs_done, "evidence": worker.evidence,
    }


def queue_json(name: str, stats: QueueStats | None, done: Throughput | None, window: float
               ) -> dict[str, Any]:
    counts = {"blocked": 0, "queued": 0, "running": 0}
    if stats is not None:
        counts.update({state.value: n for state, n in stats.counts.items()})
    done = done or Throughput(queue=name, window=window)
    return {
        "name": name, "paused": bool(stats and stats.paused), "counts": counts,
        "oldest_ready_age": None if stats is None or stats.oldest_ready_age is None
        else round(stats.oldest_ready_age, 3),
        "throughput": {"window": window, "succeeded": done.succeeded, "failed": done.failed,
                       "cancelled": done.cancelled, "per_minute": round(done.per_minute, 3)},
        "failure_rate": None if done.failure_rate is None else round(done.failure_rate, 4),
    }
