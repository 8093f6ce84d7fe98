"""An attempt's span recorded by jobglass exports what the SDK's own span would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from jobglass.observe.attempt_span import SpanRecorder

PARENT = SpanContext(0xAB, 0xCD, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
LINKED = SpanContext(0xEF, 0x12, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))


class Pair:
    """One provider, its exporter, and the same span drawn both ways."""

    def __init__(self, provider: TracerProvider) -> None:
        self.exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = provider.get_tracer("jobglass")
        recorder = SpanRecorder.for_tracer(self.tracer, "jobglass")
        assert recorder is not None
        self.recorder = recorder

    def both(self, use: Callable[[trace.Span], None], parent: Context | None = None,
             links: tuple[Link, ...] = ()) -> tuple[ReadableSpan, ReadableSpan]:
        attributes = {"messaging.system": "jobglass", "messaging.message.id": "7",
                      "jobglass.attempt": 2}
        sdk = self.tracer.start_span("process q", context=parent, kind=SpanKind.CONSUMER,
                                     links=links, attributes=attributes)
        ours = self.recorder.start("process q", parent, SpanKind.CONSUMER, dict(attributes),
                                   links)
        for span in (sdk, ours):
            use(span)
            span.end()
        first, second = self.exporter.get_finished_spans()
        return first, second


def exported(span: ReadableSpan) -> dict[str, Any]:
    """What an exporter reads, minus ids and times that differ by nature."""
    assert span.context is not None
    return {
        "name": span.name, "kind": span.kind,
        "parent": span.parent.span_id if span.parent else None,
        "trace_flags": span.context.trace_flags,
        "attributes": dict(span.attributes or {}), "dropped": span.dropped_attributes,
        "status": (span.status.status_code, span.status.description),
        "events": [(e.name, dict(e.attributes or {})) for e in span.events],
        "links": [(link.context.span_id, dict(link.attributes or {})) for link in span.links],
        "resource": span.resource.attributes,
        "scope": span.instrumentation_scope.name if span.instrumentation_scope else None,
    }


def annotate(span: trace.Span) -> None:
    span.set_attribute("order.id", 42)
    span.set_attribute("tags", ["a", "b"])  # sequences become tuples
    span.set_attributes({"ratio": 0.5, "ok": True})
    span.add_event("fetched", {"bytes": 10})
    span.add_link(LINKED, {"why": "retry of"})
    span.update_name("process q!")
    span.set_status(Status(StatusCode.ERROR, "boom"))
    span.set_status(StatusCode.UNSET)  # never overrides


def test_a_span_annotated_by_the_task_exports_like_the_sdks_own() -> None:
    pair = Pair(TracerProvider())
    sdk, ours = pair.both(annotate, parent=trace.set_span_in_context(NonRecordingSpan(PARENT)),
                          links=(Link(LINKED),))
    assert exported(ours) == exported(sdk)
    assert exported(ours)["parent"] == PARENT.span_id
    assert ours.context is not None
    assert ours.context.trace_id == PARENT.trace_id


def test_a_recorded_exception_exports_like_the_sdks_own() -> None:
    def fail(span: trace.Span) -> None:
        try:
            raise KeyError("sku-1")
        except KeyError as exc:
            span.record_exception(exc, {"extra": "x"})

    sdk, ours = Pair(TracerProvider()).both(fail)
    assert exported(ours) == exported(sdk)
    (event,) = ours.events
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "KeyError"


def test_an_attribute_count_limit_from_the_environment_applies_alike(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "4")

    def crowd(span: trace.Span) -> None:
        for i in range(3):
            span.set_attribute(f"k{i}", i)

    sdk, ours = Pair(TracerProvider()).both(crowd)
    assert exported(ours) == exported(sdk)
    assert dict(ours.attributes or {}) == {"jobglass.attempt": 2, "k0": 0, "k1": 1, "k2": 2}
    assert ours.dropped_attributes == 2


def test_the_providers_own_span_limits_apply_alike() -> None:
    provider = TracerProvider(span_limits=SpanLimits(max_span_attributes=4,
                                                     max_span_attribute_length=3))
    sdk, ours = Pair(provider).both(lambda span: span.set_attribute("k", "long"))
    assert exported(ours) == exported(sdk)
    assert dict(ours.attributes or {}) == {"messaging.system": "job",
                                           "messaging.message.id": "7",
                                           "jobglass.attempt": 2, "k": "lon"}


def test_a_value_length_limit_from_the_environment_applies_alike(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3")
    sdk, ours = Pair(TracerProvider()).both(lambda span: span.set_attribute("k", "long"))
    assert exported(ours) == exported(sdk)
    assert dict(ours.attributes or {}) == {"messaging.system": "job",
                                           "messaging.message.id": "7",
                                           "jobglass.attempt": 2, "k": "lon"}


def test_an_unsampled_attempt_gets_ids_but_records_nothing() -> None:
    pair = Pair(TracerProvider(sampler=ParentBased(ALWAYS_OFF)))
    span = pair.recorder.start("process q", None, SpanKind.CONSUMER, {}, ())
    assert not span.is_recording()
    assert span.get_span_context().is_valid  # log lines still carry the ids
    assert not span.get_span_context().trace_flags.sampled
    span.end()
    assert pair.exporter.get_finished_spans() == ()


def test_a_span_ends_once_and_ignores_later_changes() -> None:
    pair = Pair(TracerProvider())
    span = pair.recorder.start("process q", None, SpanKind.CONSUMER, {}, ())
    span.end()
    span.set_attribute("late", 1)
    span.end()
    (only,) = pair.exporter.get_finished_spans()
    assert "late" not in (only.attributes or {})


def test_a_tracer_other_than_the_sdks_keeps_its_own_spans() -> None:
    assert SpanRecorder.for_tracer(trace.NoOpTracer(), "jobglass") is None
