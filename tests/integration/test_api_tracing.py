"""An incoming traceparent continues: server span -> enqueue producer span -> the job's
consumer span, one trace."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import jobglass
from jobglass.observe.config import TelemetryConfig
from jobglass.observe.setup import install
from jobglass.web import WebSettings, create_app

WaitFor = Callable[..., Awaitable[None]]
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


async def test_traceparent_continues_from_request_to_job(tmp_path: Path,
                                                         wait_for: WaitFor) -> None:
    app = jobglass.App(f"sqlite:///{tmp_path}/t.db")

    @app.task(name="mail")
    def mail(to: str) -> str:
        return to

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry = install(app, TelemetryConfig(tracing=True, job_logs=False), logging_setup=False,
                        tracer_provider=provider)
    web = create_app(app, WebSettings(tracing=telemetry.tracing, close_store=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                 base_url="http://test") as client:
        response = await client.post(
            "/api/jobs", json={"task": "mail", "kwargs": {"to": "ada@example.com"}},
            headers={"traceparent": f"00-{TRACE}-{CALLER_SPAN}-01"})
    assert response.status_code == 201
    job_id = response.json()["id"]
    store = await app.astore()
    worker = jobglass.Worker(app, jobglass.WorkerSettings(heartbeat=0.05),
                             scope=telemetry.job_scope)
    task = asyncio.create_task(worker.run())

    async def done() -> bool:
        return (await store.get(job_id)).state is jobglass.JobState.SUCCEEDED

    await wait_for(done, 10)
    worker.request_stop()
    await asyncio.wait_for(task, 10)
    await app.aclose()
    spans = exporter.get_finished_spans()
    server = next(s for s in spans if s.kind is SpanKind.SERVER)
    producer = next(s for s in spans if s.kind is SpanKind.PRODUCER)
    consumer = next(s for s in spans if s.kind is SpanKind.CONSUMER)
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == CALLER_SPAN
    assert producer.parent is not None
    assert server.context is not None
    assert producer.parent.span_id == server.context.span_id
    assert consumer.parent is not None
    assert producer.context is not None
    assert consumer.parent.span_id == producer.context.span_id
    for span in (server, producer, consumer):
        assert span.context is not None
        assert format(span.context.trace_id, "032x") == TRACE
