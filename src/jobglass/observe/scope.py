"""What surrounds one attempt's execution: its ids bound for every log line, its
stored log, and its trace span. The worker enters one scope per attempt, inside
the attempt's own asyncio task, so nothing leaks between jobs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from jobglass.app import Context
from jobglass.model import Job
from jobglass.observe.joblog import AttemptLog, JobLogSink, current_attempt
from jobglass.observe.logs import job_ids_var
from jobglass.observe.tracing import Tracing, mark_span
from jobglass.store import Report


class AttemptScope:
    def __init__(self, attempt_log: AttemptLog | None, span: Any | None) -> None:
        self.log = attempt_log
        self.span = span

    def finish(self, report: Report | None) -> None:
        if self.log is not None:
            self.log.close()
        if self.span is not None and report is not None:
            mark_span(self.span, report.outcome.value, report.error_type,
                      report.error_message, report.traceback)


class JobScope:
    def __init__(self, *, sink: JobLogSink | None = None, tracing: Tracing | None = None
                 ) -> None:
        self.sink = sink
        self.tracing = tracing

    @contextlib.contextmanager
    def enter(self, job: Job, ctx: Context, worker_id: str) -> Iterator[AttemptScope]:
        ids: dict[str, Any] = {"job_id": job.id, "task": job.task, "queue": job.queue,
                               "attempt": job.attempt, "worker_id": worker_id}
        if job.request_id:
            ids["request_id"] = job.request_id
        ids_token = job_ids_var.set(ids)
        attempt_log = self.sink.begin(job) if self.sink is not None else None
        token_log = current_attempt.set(attempt_log)
        if attempt_log is not None:
            ctx.log.writer = attempt_log.write
        span = token = None
        if self.tracing is not None:
            span, token = self.tracing.start(job, worker_id)
        try:
            yield AttemptScope(attempt_log, span)
        finally:
            if span is not None and token is not None:
                Tracing.stop(span, token)
            current_attempt.reset(token_log)
            job_ids_var.reset(ids_token)
