"""An incoming `traceparent` continues the trace: a SERVER span per request, current
while the handler runs, so the enqueue's PRODUCER span (and through the job's
stored traceparent, its CONSUMER spans) hang under the caller's trace."""

from __future__ import annotations

from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobglass.observe.tracing import Tracing


class ServerSpanMiddleware:
    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracer = tracing.tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        carrier = {k: headers[k] for k in ("traceparent", "tracestate") if k in headers}
        parent = propagate.extract(carrier) if carrier else None
        method = scope["method"]
        with self.tracer.start_as_current_span(
                f"{method} {scope['path']}", context=parent, kind=SpanKind.SERVER,
                attributes={"http.request.method": method, "url.path": scope["path"]}) as span:

            async def send_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self.app(scope, receive, send_status)
