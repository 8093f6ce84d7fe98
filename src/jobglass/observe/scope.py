"""What surrounds one attempt's execution: its ids bound for every log line, its
stored log, and its trace span. The worker enters one scope per attempt, inside
the attempt's own asyncio task, so nothing leaks between jobs."""

from __future__ import annotations

from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace import Span

from jobglass.app import Context
from jobglass.model import Job
from jobglass.observe.joblog import JobLogSink, current_attempt
from jobglass.observe.logs import job_ids_var
from jobglass.observe.tracing import Tracing, mark_span
from jobglass.store import Report


class AttemptScope:
    """One attempt's surroundings, undone on leaving the `with` block. A plain class,
    not a generator context manager: it is entered once per job."""

    __slots__ = ("_ids_token", "_log_token", "_span_token", "log", "span")

    def __init__(self, job: Job, ctx: Context, worker_id: str, sink: JobLogSink | None,
                 tracing: Tracing | None) -> None:
        ids: dict[str, Any] = {"job_id": job.id, "task": job.task, "queue": job.queue,
                               "attempt": job.attempt, "worker_id": worker_id}
        if job.request_id:
            ids["request_id"] = job.request_id
        self._ids_token = job_ids_var.set(ids)
        self.log = sink.begin(job) if sink is not None else None
        self._log_token = current_attempt.set(self.log)
        if self.log is not None:
            ctx.log.writer = self.log.write
        self.span: Span | None = None
        self._span_token: Token[otel_context.Context] | None = None
        if tracing is not None:
            self.span, self._span_token = tracing.start(job, worker_id)

    def __enter__(self) -> AttemptScope:
        return self

    def __exit__(self, *_: object) -> None:
        if self.span is not None and self._span_token is not None:
            Tracing.stop(self.span, self._span_token)
        current_attempt.reset(self._log_token)
        job_ids_var.reset(self._ids_token)

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

    def enter(self, job: Job, ctx: Context, worker_id: str) -> AttemptScope:
        """Bind the attempt's ids, open its log and span; use as `with scope.enter(...)`."""
        return AttemptScope(job, ctx, worker_id, self.sink, self.tracing)
