"""OpenTelemetry traces: a PRODUCER span per enqueue, a CONSUMER span per attempt.

The enqueuer's W3C `traceparent`/`tracestate` is stored on the job. Each attempt's
span is, by configuration, either
- a **child** of the producer span (default): one trace from the HTTP request to the
  job's last log line; long-delayed or much-retried jobs stretch that trace, or
- a new trace **linked** to the producer: short traces per attempt, joined by the
  link — better when jobs run hours after they were enqueued.
A reaped attempt gets its span after the fact, closed with an error. Spans follow
the messaging semantic conventions (system, destination, message id = job id).
Standard OTEL_* variables configure export; with tracing off nothing here runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from structlog.typing import EventDict

from jobglass.model import Attempt, Job, JobSpec
from jobglass.observe import events as ev
from jobglass.observe.observer import Observer

SYSTEM = "jobglass"


def configure_provider() -> None:
    """Install an SDK TracerProvider with the exporter OTEL_* asks for, unless the
    application already installed one."""
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(resource=Resource.create(
        {"service.name": os.environ.get("OTEL_SERVICE_NAME", "jobglass")}))
    kind = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower()
    endpoint = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    if kind == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif kind == "otlp" and endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def _carrier(job: Job) -> dict[str, str]:
    carrier = {"traceparent": job.traceparent} if job.traceparent else {}
    if job.tracestate:
        carrier["tracestate"] = job.tracestate
    return carrier


class Tracing:
    def __init__(self, consumer: str = "child",
                 provider: trace.TracerProvider | None = None) -> None:
        if consumer not in ("child", "link"):
            raise ValueError("consumer must be 'child' or 'link'")
        self.consumer = consumer
        self.tracer = (provider or trace.get_tracer_provider()).get_tracer("jobglass")
        self._last_carrier: tuple[str | None, str | None] | None = None
        self._last_parent: otel_context.Context | None = None

    @contextmanager
    def enqueue(self, specs: Sequence[JobSpec]) -> Iterator[Span]:
        """The producer span around one enqueue call; its traceparent goes on each job."""
        queue = specs[0].queue if specs else ""
        attributes: dict[str, Any] = {
            "messaging.system": SYSTEM, "messaging.operation.type": "send",
            "messaging.destination.name": queue}
        if len(specs) > 1:
            attributes["messaging.batch.message_count"] = len(specs)
        with self.tracer.start_as_current_span(f"send {queue}", kind=SpanKind.PRODUCER,
                                               attributes=attributes) as span:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            for spec in specs:
                if spec.traceparent is None:
                    spec.traceparent = carrier.get("traceparent")
                    spec.tracestate = carrier.get("tracestate")
            yield span

    def _parent(self, job: Job) -> tuple[otel_context.Context | None, list[Link]]:
        if not job.traceparent:
            return None, []
        # A batch enqueue stamps one traceparent on many jobs: parse it once.
        key = (job.traceparent, job.tracestate)
        if self._last_carrier != key:
            self._last_carrier = key
            self._last_parent = propagate.extract(_carrier(job))
        parent = self._last_parent
        if self.consumer == "child":
            return parent, []
        span_context = trace.get_current_span(parent).get_span_context()
        return otel_context.Context(), [Link(span_context)] if span_context.is_valid else []

    def _attributes(self, job: Job, worker_id: str | None) -> dict[str, Any]:
        # Few attributes on purpose: the SDK validates each one on the hot path. The
        # worker and request ids are on the job and in every log line of the span.
        return {"messaging.system": SYSTEM, "messaging.operation.type": "process",
                "messaging.destination.name": job.queue, "messaging.message.id": str(job.id),
                "jobglass.task": job.task, "jobglass.attempt": job.attempt}

    def start(self, job: Job, worker_id: str) -> tuple[Span, Token[otel_context.Context]]:
        """Open the attempt's span and make it current while the task runs (so its
        logs carry it); hand both back to `stop`. Two plain calls rather than a
        context manager: this runs once per job."""
        parent, links = self._parent(job)
        span = self.tracer.start_span(f"process {job.queue}", context=parent,
                                      kind=SpanKind.CONSUMER, links=links,
                                      attributes=self._attributes(job, worker_id))
        return span, otel_context.attach(trace.set_span_in_context(span))

    @staticmethod
    def stop(span: Span, token: Token[otel_context.Context]) -> None:
        otel_context.detach(token)
        span.end()

    def reaped(self, job: Job, attempt: Attempt) -> None:
        """The lost attempt's span, drawn after the fact and closed with an error."""
        parent, links = self._parent(job)
        span = self.tracer.start_span(
            f"process {job.queue}", context=parent, kind=SpanKind.CONSUMER, links=links,
            attributes={**self._attributes(job, attempt.worker_id),
                        "jobglass.attempt": attempt.number, "jobglass.outcome": "lost"},
            start_time=int(attempt.started_at * 1e9))
        span.set_status(Status(StatusCode.ERROR, attempt.error_message or "worker lost"))
        span.add_event("worker lost", {k: str(v) for k, v in (attempt.evidence or {}).items()})
        span.end(end_time=int((attempt.ended_at or attempt.started_at) * 1e9))


def mark_span(span: Span, outcome: str, error_type: str | None, error: str | None,
              traceback: str | None) -> None:
    span.set_attribute("jobglass.outcome", outcome)
    if outcome in ("failed", "timeout"):
        span.set_status(Status(StatusCode.ERROR, error or outcome))
        span.add_event("exception", {"exception.type": error_type or "Error",
                                     "exception.message": error or "",
                                     "exception.stacktrace": traceback or ""})


class TracingObserver(Observer):
    """Spans that no running task can draw: attempts the reaper ended."""

    def __init__(self, tracing: Tracing) -> None:
        self.tracing = tracing

    def on_job_reaped(self, event: ev.JobReaped) -> None:
        self.tracing.reaped(event.job, event.attempt)


def add_trace_ids(_: Any, __: str, event: EventDict) -> EventDict:
    """structlog processor: the current span's ids on every log line."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event.setdefault("trace_id", format(ctx.trace_id, "032x"))
        event.setdefault("span_id", format(ctx.span_id, "016x"))
    return event
