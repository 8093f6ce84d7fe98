"""The attempt's CONSUMER span, recorded without the SDK's general-purpose span.

The OpenTelemetry SDK's span cleans every attribute through generic containers,
locks each change and copies itself when it ends: ~41 µs of CPU a span on a
2-core VM, against ~12 µs for this one (`bench.bench_observability --only spans`);
a no-op job costs ~60 µs in all. An attempt's span has one owner (the
worker's asyncio task for that attempt) and attributes of known types, so
jobglass keeps it in plain fields and hands the tracer's span processors one
SDK `ReadableSpan` when it ends. The tracer's sampler, id generator, resource,
processors and exporters are used as they are; what a task adds through the API
(`trace.get_current_span().set_attribute(...)`) is checked by the SDK's own
attribute rules and span limits.

`SpanRecorder.for_tracer` returns None for a tracer that is not the SDK's; the
caller then uses the tracer's own spans.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits
from opentelemetry.sdk.trace import Tracer as SdkTracer
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.status import Status, StatusCode
from opentelemetry.util import types

# Values of these types need no cleaning: taken as they are unless a length limit
# applies. Anything else goes through BoundedAttributes, as in the SDK.
_PLAIN = frozenset((str, bool, int, float))
_RANDOM_ID_FLAG = getattr(TraceFlags, "RANDOM_TRACE_ID", 0)


def _always() -> bool:
    return True


class SpanRecorder:
    """Starts attempt spans for one SDK tracer."""

    def __init__(self, tracer: SdkTracer, scope_name: str) -> None:
        self.tracer = tracer
        # The provider's limits (its `span_limits`, else OTEL_SPAN_* variables); the
        # SDK keeps them on the tracer without a public name.
        limits = getattr(tracer, "_span_limits", None)
        self.limits = limits if isinstance(limits, SpanLimits) else SpanLimits()
        enabled = getattr(tracer, "_is_enabled", None)  # the SDK's tracer configurator
        self._enabled: Callable[[], bool] = enabled if callable(enabled) else _always
        self.scope = InstrumentationScope(scope_name)
        random_ids = getattr(tracer.id_generator, "is_trace_id_random", None)
        self._root_flag = _RANDOM_ID_FLAG if random_ids is not None and random_ids() else 0

    @classmethod
    def for_tracer(cls, tracer: trace.Tracer, scope_name: str) -> SpanRecorder | None:
        return cls(tracer, scope_name) if isinstance(tracer, SdkTracer) else None

    def start(self, name: str, parent: Context | None, kind: SpanKind,
              attributes: dict[str, Any], links: Sequence[Link]) -> trace.Span:
        """Open a span as the SDK tracer would: same sampler, ids and trace flags."""
        tracer = self.tracer
        parent_span = trace.get_current_span(parent).get_span_context()
        if not self._enabled():
            return NonRecordingSpan(parent_span)  # as the SDK does for a disabled tracer
        parent_context: SpanContext | None
        if parent_span.is_valid:
            parent_context, trace_id = parent_span, parent_span.trace_id
            extra_flag = parent_span.trace_flags & _RANDOM_ID_FLAG
        else:
            parent_context, trace_id = None, tracer.id_generator.generate_trace_id()
            extra_flag = self._root_flag
        result = tracer.sampler.should_sample(parent, trace_id, name, kind, attributes, links)
        sampled = result.decision is Decision.RECORD_AND_SAMPLE
        flags = TraceFlags((TraceFlags.SAMPLED if sampled else 0) | extra_flag)
        context = SpanContext(trace_id, tracer.id_generator.generate_span_id(),
                              is_remote=False, trace_flags=flags,
                              trace_state=result.trace_state)
        if not sampled and result.decision is not Decision.RECORD_ONLY:
            return NonRecordingSpan(context)
        if result.attributes:
            attributes.update(result.attributes)
        limits = self.limits
        if limits.max_span_attribute_length is None and (
                limits.max_span_attributes is None
                or len(attributes) <= limits.max_span_attributes):
            span = AttemptSpan(self, name, context, parent_context, kind, attributes, links)
        else:  # tight limits from OTEL_*: every attribute through the checks
            span = AttemptSpan(self, name, context, parent_context, kind, {}, links)
            span.set_attributes(attributes)
        tracer.span_processor.on_start(span, parent_context=parent)  # type: ignore[arg-type]
        return span


class AttemptSpan(trace.Span):
    """A recording span owned by one attempt. Not locked: only the attempt's task
    (and the task's own code, which runs inside it) touches it before it ends."""

    def __init__(self, recorder: SpanRecorder, name: str, context: SpanContext,
                 parent: SpanContext | None, kind: SpanKind, attributes: dict[str, Any],
                 links: Sequence[Link]) -> None:
        self._recorder = recorder
        self._name = name
        self._context = context
        self._parent = parent
        self._kind = kind
        self._attributes = attributes
        self._dropped_attributes = 0
        self._links: list[Link] | BoundedList[Link] = list(links)
        self._events: BoundedList[Event] | None = None
        self._status = Status(StatusCode.UNSET)
        self._start = time.time_ns()
        self._end: int | None = None

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self._end is None

    def update_name(self, name: str) -> None:
        if self._end is None:
            self._name = name

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        if self._end is not None:
            return
        limits = self._recorder.limits
        if type(value) not in _PLAIN or limits.max_span_attribute_length is not None:
            cleaned = BoundedAttributes(None, {key: value},
                                        max_value_len=limits.max_span_attribute_length)
            if key not in cleaned:
                self._dropped_attributes += 1
                return
            value = cleaned[key]
        attributes = self._attributes
        if (key not in attributes and limits.max_span_attributes is not None
                and len(attributes) >= limits.max_span_attributes):
            # As the SDK does when full: the oldest attribute makes room.
            del attributes[next(iter(attributes))]
            self._dropped_attributes += 1
        attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def add_event(self, name: str, attributes: types.Attributes = None,
                  timestamp: int | None = None) -> None:
        if self._end is not None:
            return
        limits = self._recorder.limits
        if self._events is None:
            self._events = BoundedList(limits.max_events)
        self._events.append(Event(name, BoundedAttributes(
            limits.max_event_attributes, attributes,
            max_value_len=limits.max_attribute_length), timestamp or time.time_ns()))

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        if self._end is not None or (not context.is_valid and not attributes):
            return
        limits = self._recorder.limits
        if not isinstance(self._links, BoundedList):
            self._links = BoundedList.from_seq(limits.max_links, self._links)
        self._links.append(Link(context, BoundedAttributes(
            limits.max_link_attributes, attributes,
            max_value_len=limits.max_attribute_length)))

    def set_status(self, status: Status | StatusCode, description: str | None = None
                   ) -> None:
        # The SDK's rule: OK is final, UNSET never overrides.
        if self._end is not None or self._status.status_code is StatusCode.OK:
            return
        if isinstance(status, StatusCode):
            status = Status(status, description)
        if status.status_code is not StatusCode.UNSET:
            self._status = status

    def record_exception(self, exception: BaseException, attributes: types.Attributes = None,
                         timestamp: int | None = None, escaped: bool = False) -> None:
        kind = type(exception)
        module = kind.__module__
        fields: dict[str, types.AnyValue] = {
            "exception.type": (f"{module}.{kind.__qualname__}"
                               if module and module != "builtins" else kind.__qualname__),
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped)}
        fields.update(attributes or {})
        self.add_event("exception", fields, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self._end is not None:
            return
        self._end = end_time or time.time_ns()
        recorder = self._recorder
        # A copy: a sync task's thread outliving its attempt (hung past the grace)
        # must not change what the exporter is reading.
        attributes: Mapping[str, Any] = dict(self._attributes)
        if self._dropped_attributes:  # rare: let exporters see the dropped count
            counted = BoundedAttributes(None, attributes)
            counted.dropped = self._dropped_attributes
            attributes = counted
        recorder.tracer.span_processor.on_end(ReadableSpan(
            name=self._name, context=self._context, parent=self._parent,
            resource=recorder.tracer.resource, attributes=attributes,
            events=self._events or (), links=self._links, kind=self._kind,
            status=self._status, start_time=self._start, end_time=self._end,
            instrumentation_scope=recorder.scope))
