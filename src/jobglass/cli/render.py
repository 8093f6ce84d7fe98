"""Rich tables for people; `--json` for scripts."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.markup import escape
from rich.table import Table

from jobglass.model import Attempt, Job, LogLine, QueueStats, WorkerInfo


def when(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def ago(ts: float | None) -> str:
    return "" if ts is None else f"{time.time() - ts:.1f}s ago"


def jobs_table(jobs: Sequence[Job]) -> Table:
    table = Table("id", "task", "queue", "state", "attempt", "created", "error")
    for job in jobs:
        table.add_row(str(job.id), job.task, job.queue, job.state.value, str(job.attempt),
                      when(job.created_at), (job.error or job.reason or "")[:60])
    return table


def job_table(job: Job) -> Table:
    table = Table("field", "value", show_header=False)
    rows = [("id", job.id), ("task", job.task), ("queue", job.queue), ("state", job.state.value),
            ("command", job.command), ("args", job.args), ("kwargs", job.kwargs),
            ("priority", job.priority), ("run at", when(job.run_at)),
            ("created", when(job.created_at)), ("finished", when(job.finished_at)),
            ("attempts", job.attempt), ("retries left", job.retries_left),
            ("parents", job.parents or None), ("unique key", job.unique_key),
            ("result", job.result), ("error", job.error), ("reason", job.reason),
            ("progress", None if job.progress_done is None else
             f"{job.progress_done}/{job.progress_total} {job.progress_message or ''}"),
            ("request id", job.request_id), ("traceparent", job.traceparent)]
    for name, value in rows:
        if value is not None and value != "":
            table.add_row(name, str(value))
    return table


def attempts_table(attempts: Sequence[Attempt]) -> Table:
    table = Table("#", "worker", "started", "in queue", "took", "outcome", "error", "evidence")
    for a in attempts:
        took = "" if a.ended_at is None else f"{a.ended_at - a.started_at:.3f}s"
        queued = "" if a.queue_wait is None else f"{a.queue_wait:.3f}s"
        error = f"{a.error_type}: {a.error_message}" if a.error_type else (a.error_message or "")
        table.add_row(str(a.number), a.worker_id or "", when(a.started_at), queued, took,
                      a.outcome.value if a.outcome else "running", error[:80],
                      str(a.evidence or ""))
    return table


def workers_table(workers: Sequence[WorkerInfo]) -> Table:
    table = Table("id", "state", "host", "pid", "queues", "heartbeat", "lease", "jobs", "done")
    for w in workers:
        table.add_row(w.id, w.state, w.host, str(w.pid), ",".join(w.queues) or "*",
                      ago(w.last_heartbeat), "" if w.lease is None else f"{w.lease:g}s",
                      ",".join(map(str, w.current_jobs)), str(w.jobs_done))
    return table


def queues_table(stats: Sequence[QueueStats]) -> Table:
    table = Table("queue", "blocked", "queued", "running", "oldest ready", "paused")
    for q in stats:
        c = {s.value: n for s, n in q.counts.items()}
        age = "" if q.oldest_ready_age is None else f"{q.oldest_ready_age:.1f}s"
        table.add_row(q.queue, str(c.get("blocked", 0)), str(c.get("queued", 0)),
                      str(c.get("running", 0)), age, "yes" if q.paused else "")
    return table


_LEVEL_STYLE = {"debug": "dim", "info": "", "warning": "yellow", "error": "red"}


def log_line(line: LogLine) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(line.ts)) + f".{int(line.ts % 1 * 1000):03d}"
    style = _LEVEL_STYLE.get(line.level, "")
    fields = "" if not line.fields else " " + " ".join(f"{k}={v}" for k, v in line.fields.items())
    head = f"#{line.attempt} {stamp} {line.level:<7} {line.stream:<8}"
    text = escape(f"{head} {line.message}{fields}")
    return f"[{style}]{text}[/{style}]" if style else text
