"""Telemetry from a real worker on a real SQLite file: metrics read from the
exposition text, log lines with ids, spans linked producer -> consumer, stored job
logs with capture and cap."""

from __future__ import annotations

import asyncio
import calendar
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

import jobglass
from jobglass import App, Context, JobState, WorkerSettings
from jobglass.model import JobSpec
from jobglass.observe import events as ev
from jobglass.observe.config import TaskEventMetric, TelemetryConfig
from jobglass.observe.health import Thresholds, assess
from jobglass.observe.observer import FanOut, Observer, Recorder
from jobglass.observe.setup import Telemetry, install

WaitFor = Callable[..., Awaitable[None]]


class Flaky(Exception):
    pass


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    application = App(f"sqlite:///{tmp_path}/obs.db")
    yield application
    await application.aclose()


async def run_worker(app: App, telemetry: Telemetry, until: Callable[[], Awaitable[bool]],
                     wait_for: WaitFor, **settings: Any) -> jobglass.Worker:
    worker = jobglass.Worker(app, WorkerSettings(**{"heartbeat": 0.05, "lease": 5.0,
                                                   **settings}),
                             scope=telemetry.job_scope)
    task = asyncio.create_task(worker.run())
    try:
        await wait_for(until, 15)
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, 10)
    return worker


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_fanout_delivers_each_event_once_in_order_to_every_observer() -> None:
    first, second = Recorder(), Recorder()

    class Broken(Observer):
        def on_event(self, event: ev.Event) -> None:
            raise RuntimeError("boom")

    fanout = FanOut([first, Broken(), second])
    sent = [ev.WorkerStarted("w", [], 1), ev.WorkerHeartbeat("w", 0), ev.WorkerStopped("w", "x")]
    for event in sent:
        fanout.handle(event)
    assert first.events == sent
    assert second.events == sent
    assert fanout.errors["Broken"] == 3


def test_fanout_skips_event_types_an_observer_declines() -> None:
    class HeartbeatsOnly(Recorder):
        wanted: type[ev.Event] = ev.WorkerHeartbeat

        def wants(self, kind: type[ev.Event]) -> bool:
            return kind is self.wanted

    picky, everything = HeartbeatsOnly(), Recorder()
    fanout = FanOut([picky, everything])
    sent = [ev.WorkerStarted("w", [], 1), ev.WorkerHeartbeat("w", 0), ev.WorkerStopped("w", "x")]
    for event in sent:
        fanout.handle(event)
    assert picky.events == [sent[1]]
    assert everything.events == sent
    picky.wanted = ev.WorkerStopped
    fanout.reroute()  # routes are asked once per type; reroute asks again
    fanout.handle(sent[2])
    assert picky.events == [sent[1], sent[2]]


def test_log_observer_declines_events_below_the_level() -> None:
    from jobglass.observe.log_observer import LogObserver
    from jobglass.observe.logs import configure_logging

    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)
    try:
        observer = LogObserver()
        assert not observer.wants(ev.WorkerHeartbeat)  # DEBUG by default
        assert observer.wants(ev.WorkerStarted)
        assert LogObserver({"WorkerHeartbeat": logging.WARNING}).wants(ev.WorkerHeartbeat)
    finally:
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers
                                        if h.get_name() != "jobglass"]


def test_log_observer_follows_a_new_logging_configuration() -> None:
    from jobglass.observe.log_observer import LogObserver
    from jobglass.observe.logs import configure_logging

    first, second = io.StringIO(), io.StringIO()
    observer = LogObserver()
    started = ev.WorkerStarted("w-1", ["default"], 4)
    try:
        configure_logging("json", "INFO", stream=first)
        observer.handle(started)
        assert not observer.wants(ev.WorkerHeartbeat)
        configure_logging("json", "DEBUG", stream=second)  # a new logger: a new line table
        assert observer.wants(ev.WorkerHeartbeat)
        observer.handle(started)
        observer.handle(ev.WorkerHeartbeat("w-1", 0))
    finally:
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers
                                        if h.get_name() != "jobglass"]
        configure_logging("json", "INFO", stream=io.StringIO())
    first_lines = [json.loads(line) for line in first.getvalue().splitlines()]
    second_lines = [json.loads(line) for line in second.getvalue().splitlines()]
    assert [(x["event"], x["level"]) for x in first_lines] == [("worker started", "info")]
    assert [(x["event"], x["level"]) for x in second_lines] == [
        ("worker started", "info"), ("worker heartbeat", "debug")]
    assert second_lines[1]["event_type"] == "WorkerHeartbeat"


def test_json_lines_carry_a_utc_timestamp_and_survive_odd_values() -> None:
    from jobglass.observe.logs import configure_logging, event_logger

    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)
    try:
        before = time.time()
        event_logger().info("odd values", thing=object(), by_number={1: "one"}, ratio=0.5)
        line = json.loads(stream.getvalue().splitlines()[-1])
    finally:
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers
                                        if h.get_name() != "jobglass"]
    assert line["event"] == "odd values"
    assert line["thing"].startswith("<object object")
    assert line["by_number"] == {"1": "one"}
    assert line["ratio"] == 0.5
    stamp = line["timestamp"]
    assert stamp.endswith("Z")
    assert len(stamp) == len("2026-01-01T00:00:00.000000Z")
    parsed = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    assert abs(parsed + float("0." + stamp[20:26]) - before) < 5


async def test_metric_values_after_a_scripted_run(app: App, wait_for: WaitFor) -> None:
    telemetry = install(app, TelemetryConfig(job_logs=False), logging_setup=False)
    assert telemetry.metrics is not None

    @app.task(name="ok")
    def ok() -> int:
        return 1

    @app.task(name="flaky", retries=1, backoff=0.01, backoff_cap=0.01)
    def flaky(ctx: Context) -> int:
        if ctx.attempt == 1:
            raise Flaky("first time")
        return 2

    @app.task(name="bad", retries=0)
    def bad() -> None:
        raise ValueError("never")

    @app.task(name="slow")
    async def slow() -> None:
        await asyncio.sleep(60)

    handles = [await ok.aenqueue(), await ok.aenqueue(), await flaky.aenqueue(),
               await bad.aenqueue()]
    blocked = await ok.with_options(depends_on=[handles[3].id]).aenqueue()
    lost = await slow.aenqueue()
    store = await app.astore()

    async def settled() -> bool:
        states = [(await store.get(h.id)).state for h in handles]
        lost_state = (await store.get(lost.id)).state
        return (all(s in jobglass.model.TERMINAL for s in states)
                and lost_state is JobState.RUNNING)

    worker = jobglass.Worker(app, WorkerSettings(heartbeat=30.0, lease=60.0),
                             scope=telemetry.job_scope)
    task = asyncio.create_task(worker.run())
    await wait_for(settled, 15)
    worker.request_stop()
    worker.request_stop()
    await asyncio.wait_for(task, 10)
    # the slow job's worker is gone: reap it, as a reaper elsewhere would, and count it
    for item in await store.reap(60.0, now=time.time() + 3600):
        app.observer.handle(ev.JobReaped(item.job, item.attempt, item.requeued))

    body, _ = await telemetry.metrics.render(store, None)
    got = samples(body.decode())

    def value(name: str, **labels: str) -> float:
        return got.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("jobglass_jobs_enqueued_total", queue="default", task="ok") == 3
    assert value("jobglass_jobs_claimed_total", queue="default", task="ok") == 2
    assert value("jobglass_jobs_claimed_total", queue="default", task="flaky") == 2
    assert value("jobglass_jobs_finished_total", queue="default", task="ok",
                 outcome="succeeded") == 2
    assert value("jobglass_jobs_finished_total", queue="default", task="flaky",
                 outcome="failed") == 1
    assert value("jobglass_jobs_finished_total", queue="default", task="flaky",
                 outcome="succeeded") == 1
    assert value("jobglass_jobs_finished_total", queue="default", task="bad",
                 outcome="failed") == 1
    assert value("jobglass_jobs_finished_total", queue="default", task="slow",
                 outcome="interrupted") == 1
    assert value("jobglass_jobs_retried_total", queue="default", task="flaky") == 1
    assert value("jobglass_jobs_reaped_total", queue="default", outcome="requeued") == 0
    assert value("jobglass_job_duration_seconds_count", queue="default", task="ok",
                 outcome="succeeded") == 2
    assert value("jobglass_queue_wait_seconds_count", queue="default") == 6
    # scrape-time gauges from the store: the interrupted slow job waits again,
    # the dependent of the failed job was cancelled (not counted: terminal)
    assert value("jobglass_store_up") == 1
    assert value("jobglass_jobs", queue="default", state="queued") == 1
    assert value("jobglass_jobs", queue="default", state="blocked") == 0
    assert (await store.get(blocked.id)).state is JobState.CANCELLED
    assert value("jobglass_workers", state="stopped") == 1


async def test_reaped_jobs_are_counted(app: App, wait_for: WaitFor) -> None:
    telemetry = install(app, TelemetryConfig(job_logs=False), logging_setup=False)
    assert telemetry.metrics is not None

    @app.task(name="hang", retries=0)
    async def hang() -> None:
        await asyncio.sleep(60)

    handle = await hang.aenqueue()
    store = await app.astore()
    worker = jobglass.Worker(app, WorkerSettings(heartbeat=30.0, lease=60.0, reap=False),
                             scope=telemetry.job_scope)
    task = asyncio.create_task(worker.run())

    async def running() -> bool:
        return (await store.get(handle.id)).state is JobState.RUNNING

    await wait_for(running, 10)
    reaper = jobglass.Worker(app, WorkerSettings(lease=60.0))
    from jobglass.worker.services import Reaper

    await Reaper(reaper, store).sweep(now=time.time() + 3600)  # as if an hour went by
    worker.request_stop()
    worker.request_stop()
    await asyncio.wait_for(task, 10)
    body, _ = await telemetry.metrics.render(store, None)
    got = samples(body.decode())
    assert got[("jobglass_jobs_reaped_total", (("outcome", "failed"), ("queue", "default")))] == 1


async def test_store_down_keeps_counters_and_says_why(app: App) -> None:
    telemetry = install(app, TelemetryConfig(job_logs=False), logging_setup=False)
    assert telemetry.metrics is not None
    app.observer.handle(ev.StaleReport(1, "x", jobglass.Outcome.SUCCEEDED))
    store = await app.astore()
    await store.close()
    body, _ = await telemetry.metrics.render(store, None)
    text = body.decode()
    assert "jobglass_store_up 0.0" in text
    assert "jobglass_store_error_info{" in text
    assert "jobglass_stale_reports_total 1.0" in text
    assert "jobglass_jobs{" not in text


async def test_stuck_jobs_gauge_counts_what_the_health_check_calls_stuck(app: App) -> None:
    """Past its timeout (plus grace) on a live worker, or on a silent worker: counted
    per queue and reason, as `jobglass health` would name them; a fresh job is not."""
    telemetry = install(app, TelemetryConfig(job_logs=False), logging_setup=False)
    assert telemetry.metrics is not None
    store = await app.astore()
    now = time.time()
    for worker_id, heard in (("live", now), ("silent", now - 600)):
        await store.register_worker(jobglass.model.WorkerInfo(
            id=worker_id, host="h", pid=1, queues=[], started_at=now - 900,
            last_heartbeat=heard, state="running", lease=30.0))
    await store.enqueue_many([JobSpec(task="t", queue="mail", timeout=60.0),
                              JobSpec(task="t", queue="mail", timeout=60.0)], now=now - 300)
    assert len(await store.claim("live", ["mail"], 1, now=now - 200)) == 1  # 140 s over
    assert len(await store.claim("silent", ["mail"], 1, now=now - 10)) == 1
    await store.enqueue_many([JobSpec(task="t", queue="web")], now=now)
    assert len(await store.claim("live", ["web"], 1, now=now)) == 1  # healthy

    body, _ = await telemetry.metrics.render(store, None)
    stuck = {labels: v for (name, labels), v in samples(body.decode()).items()
             if name == "jobglass_jobs_stuck"}
    assert stuck == {
        (("queue", "mail"), ("reason", "past_timeout")): 1.0,
        (("queue", "mail"), ("reason", "worker_silent")): 1.0,
        (("queue", "web"), ("reason", "past_timeout")): 0.0,
        (("queue", "web"), ("reason", "worker_silent")): 0.0,
    }
    verdict = await assess(store, Thresholds())
    assert next(c for c in verdict.checks if c.name == "stuck_jobs").observed == 2


async def test_stuck_jobs_gauge_judges_by_the_configured_thresholds(app: App) -> None:
    """`[health]` in the configuration reaches the gauge: 100 s past a timeout is
    stuck by default (5 s grace) and not with a 300 s grace."""
    telemetry = install(app, TelemetryConfig(job_logs=False,
                                             health=Thresholds(timeout_grace=300.0)),
                        logging_setup=False)
    assert telemetry.metrics is not None
    store = await app.astore()
    now = time.time()
    await store.register_worker(jobglass.model.WorkerInfo(
        id="live", host="h", pid=1, queues=[], started_at=now - 900, last_heartbeat=now,
        state="running", lease=30.0))
    await store.enqueue_many([JobSpec(task="t", timeout=60.0)], now=now - 300)
    assert len(await store.claim("live", [], 1, now=now - 160)) == 1

    async def past_timeout() -> float:
        body, _ = await telemetry.metrics.render(store, None)  # type: ignore[union-attr]
        return samples(body.decode())[
            ("jobglass_jobs_stuck", (("queue", "default"), ("reason", "past_timeout")))]

    assert await past_timeout() == 0
    telemetry.metrics.gauges.thresholds = Thresholds()
    assert await past_timeout() == 1


async def test_task_label_allow_list_bounds_cardinality(app: App) -> None:
    telemetry = install(app, TelemetryConfig(job_logs=False, task_labels=["keep"]),
                        logging_setup=False)
    assert telemetry.metrics is not None
    await app.aenqueue("keep")
    await app.aenqueue("drop.me")
    body, _ = await telemetry.metrics.render(None, None)
    text = body.decode()
    assert 'jobglass_jobs_enqueued_total{queue="default",task="keep"} 1.0' in text
    assert 'jobglass_jobs_enqueued_total{queue="default",task="other"} 1.0' in text
    assert "drop.me" not in text


async def test_task_events_map_to_configured_metrics(app: App, wait_for: WaitFor) -> None:
    cfg = TelemetryConfig(job_logs=False, task_event_metrics=[
        TaskEventMetric(event="prices.scraped", metric="prices_scraped", value="count")])
    telemetry = install(app, cfg, logging_setup=False)
    assert telemetry.metrics is not None

    @app.task(name="scrape")
    def scrape(ctx: Context) -> None:
        ctx.emit("prices.scraped", count=120)

    handle = await scrape.aenqueue()
    store = await app.astore()

    async def done() -> bool:
        return (await store.get(handle.id)).state is JobState.SUCCEEDED

    await run_worker(app, telemetry, done, wait_for)
    body, _ = await telemetry.metrics.render(None, None)
    text = body.decode()
    assert 'prices_scraped_total{queue="default",task="scrape"} 120.0' in text
    assert ('jobglass_task_events_total{name="prices.scraped",queue="default",task="scrape"} 1.0'
            in text)


async def test_openmetrics_scrape_carries_trace_exemplars(app: App) -> None:
    telemetry = install(app, TelemetryConfig(job_logs=False), logging_setup=False)
    assert telemetry.metrics is not None
    job = (await (await app.astore()).enqueue_many([jobglass.JobSpec(
        task="t", traceparent="00-" + "ab" * 16 + "-" + "cd" * 8 + "-01")]))[0]
    job.started_at = job.run_at + 0.5
    app.observer.handle(ev.JobClaimed(job, "w"))
    body, content_type = await telemetry.metrics.render(
        None, "application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert '# {trace_id="' + "ab" * 16 + '"}' in body.decode()


async def test_task_log_lines_carry_job_ids(app: App, wait_for: WaitFor) -> None:
    stream = io.StringIO()
    telemetry = install(app, TelemetryConfig(log_format="json", job_logs=False),
                        logging_setup=False)
    from jobglass.observe.logs import configure_logging

    configure_logging("json", "INFO", stream=stream)

    @app.task(name="talker")
    def talker() -> None:
        logging.getLogger("user.code").warning("hello from user code")

    handle = await talker.aenqueue()
    store = await app.astore()

    async def done() -> bool:
        return (await store.get(handle.id)).state is JobState.SUCCEEDED

    worker = await run_worker(app, telemetry, done, wait_for)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    user = [line for line in lines if line.get("event") == "hello from user code"]
    assert len(user) == 1
    assert user[0]["job_id"] == handle.id
    assert user[0]["task"] == "talker"
    assert user[0]["queue"] == "default"
    assert user[0]["attempt"] == 1
    assert user[0]["worker_id"] == worker.id
    assert user[0]["level"] == "warning"
    succeeded = [line for line in lines if line.get("event_type") == "JobSucceeded"]
    assert succeeded[0]["job_id"] == handle.id
    logging.getLogger().handlers = [h for h in logging.getLogger().handlers
                                    if h.get_name() != "jobglass"]


@pytest.mark.parametrize("consumer", ["child", "link"])
async def test_consumer_span_follows_the_producer_span(app: App, wait_for: WaitFor,
                                                       consumer: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry = install(app, TelemetryConfig(tracing=True, tracing_consumer=consumer,
                                             job_logs=False),
                        logging_setup=False, tracer_provider=provider)

    @app.task(name="traced")
    def traced() -> None:
        # The task annotates its own attempt's span through the API.
        trace.get_current_span().set_attribute("order.id", 42)
        raise DontRetryError("nope")

    handle = await traced.with_options(retries=0).aenqueue()
    store = await app.astore()

    async def done() -> bool:
        return (await store.get(handle.id)).state is JobState.FAILED

    await run_worker(app, telemetry, done, wait_for)
    spans = exporter.get_finished_spans()
    producer = next(s for s in spans if s.kind is SpanKind.PRODUCER)
    consumer_span = next(s for s in spans if s.kind is SpanKind.CONSUMER)
    assert consumer_span.attributes is not None
    assert consumer_span.attributes["messaging.message.id"] == str(handle.id)
    assert consumer_span.attributes["messaging.destination.name"] == "default"
    assert consumer_span.attributes["order.id"] == 42
    assert consumer_span.status.status_code.name == "ERROR"
    assert producer.context is not None
    assert consumer_span.context is not None
    if consumer == "child":
        assert consumer_span.parent is not None
        assert consumer_span.parent.span_id == producer.context.span_id
        assert consumer_span.context.trace_id == producer.context.trace_id
    else:
        assert consumer_span.context.trace_id != producer.context.trace_id
        assert [link.context.span_id for link in consumer_span.links] == [
            producer.context.span_id]
    stored = await store.get(handle.id)
    assert stored.traceparent is not None
    assert format(producer.context.trace_id, "032x") in stored.traceparent


class DontRetryError(jobglass.DontRetry):
    pass


async def test_an_attempts_outcome_line_carries_its_trace_ids(app: App,
                                                              wait_for: WaitFor) -> None:
    """The line that says how an attempt ended is written once the store has the
    outcome, after the task's own code: it still names the attempt's trace and span,
    as the task's own lines do, so the 3 AM reader goes from it to the trace."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    stream = io.StringIO()
    telemetry = install(app, TelemetryConfig(tracing=True, job_logs=False, log_format="json"),
                        tracer_provider=provider, log_stream=stream)

    @app.task(name="traced_talker")
    def traced_talker(fail: bool) -> None:
        logging.getLogger("user.code").warning("working")
        if fail:
            raise DontRetryError("nope")

    good = await traced_talker.aenqueue(fail=False)
    bad = await traced_talker.aenqueue(fail=True)
    store = await app.astore()

    async def done() -> bool:
        return ((await store.get(good.id)).state is JobState.SUCCEEDED
                and (await store.get(bad.id)).state is JobState.FAILED)

    try:
        await run_worker(app, telemetry, done, wait_for)
    finally:
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers
                                        if h.get_name() != "jobglass"]
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    spans = {int(s.attributes["messaging.message.id"]): s for s in exporter.get_finished_spans()
             if s.kind is SpanKind.CONSUMER and s.attributes is not None}
    for handle, outcome in ((good, "JobSucceeded"), (bad, "JobFailed")):
        context = spans[handle.id].context
        assert context is not None
        ids = {"trace_id": format(context.trace_id, "032x"),
               "span_id": format(context.span_id, "016x")}
        own = [line for line in lines
               if line.get("event") == "working" and line.get("job_id") == handle.id]
        ended = [line for line in lines
                 if line.get("event_type") == outcome and line.get("job_id") == handle.id]
        assert len(own) == 1
        assert len(ended) == 1
        assert {k: own[0].get(k) for k in ids} == ids
        assert {k: ended[0].get(k) for k in ids} == ids


async def test_stdout_and_logging_land_in_the_right_attempt(app: App, wait_for: WaitFor) -> None:
    telemetry = install(app, TelemetryConfig(job_logs=True), logging_setup=False)

    @app.task(name="chatty", retries=1, backoff=0.01, backoff_cap=0.01)
    def chatty(ctx: Context) -> str:
        print(f"printed on attempt {ctx.attempt}")
        ctx.log.info("structured", rows=ctx.attempt * 10)
        logging.getLogger("user.lib").error("stdlib on attempt %s", ctx.attempt)
        if ctx.attempt == 1:
            raise Flaky("again")
        return "done"

    @app.task(name="quiet")
    async def quiet() -> None:
        print("the other job")

    handle = await chatty.aenqueue()
    other = await quiet.aenqueue()
    store = await app.astore()

    async def done() -> bool:
        return ((await store.get(handle.id)).state is JobState.SUCCEEDED
                and (await store.get(other.id)).state is JobState.SUCCEEDED)

    await run_worker(app, telemetry, done, wait_for, concurrency=2)
    first = await store.read_logs(handle.id, attempt=1)
    second = await store.read_logs(handle.id, attempt=2)
    assert [(ln.stream, ln.message) for ln in first] == [
        ("stdout", "printed on attempt 1"), ("log", "structured"),
        ("log", "stdlib on attempt 1")]
    assert first[1].fields == {"rows": 10}
    assert first[2].level == "error"
    assert second[0].message == "printed on attempt 2"
    assert [ln.message for ln in await store.read_logs(other.id)] == ["the other job"]
    after = await store.read_logs(handle.id, after_id=first[-1].id or 0)
    assert [ln.attempt for ln in after] == [2, 2, 2]


async def test_job_log_cap_truncates_with_a_marker(app: App, wait_for: WaitFor) -> None:
    telemetry = install(app, TelemetryConfig(job_logs=True, job_log_max_bytes=200),
                        logging_setup=False)

    @app.task(name="flood")
    def flood() -> None:
        for i in range(100):
            print(f"line {i:03d} " + "x" * 20)

    handle = await flood.aenqueue()
    store = await app.astore()

    async def done() -> bool:
        return (await store.get(handle.id)).state is JobState.SUCCEEDED

    await run_worker(app, telemetry, done, wait_for)
    lines = await store.read_logs(handle.id)
    assert 1 < len(lines) < 100
    assert lines[-1].stream == "system"
    assert "truncated" in lines[-1].message
    assert sum(len(ln.message) for ln in lines[:-1]) <= 200


async def test_shell_output_is_stored(app: App, wait_for: WaitFor) -> None:
    telemetry = install(app, TelemetryConfig(job_logs=True), logging_setup=False)
    handle = await app.asubmit("echo one; echo two")
    store = await app.astore()

    async def done() -> bool:
        return (await store.get(handle.id)).state is JobState.SUCCEEDED

    await run_worker(app, telemetry, done, wait_for, allow_shell=True)
    assert [ln.message for ln in await store.read_logs(handle.id)] == ["one", "two"]


async def test_a_slow_observer_in_the_background_does_not_stall_jobs(
        app: App, wait_for: WaitFor) -> None:
    import threading

    from jobglass.observe import Background

    release = threading.Event()

    class Slow(Observer):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def on_event(self, event: ev.Event) -> None:
            release.wait(30)  # as slow as a chat webhook on a bad day
            self.seen.append(type(event).__name__)

    slow = Slow()
    background = Background(slow, maxsize=1000)
    app.observer.add(background)
    telemetry = install(app, TelemetryConfig(job_logs=False), logging_setup=False)

    @app.task(name="quick")
    def quick() -> int:
        return 1

    handles = [await quick.aenqueue() for _ in range(5)]
    store = await app.astore()

    async def all_done() -> bool:
        states = [(await store.get(h.id)).state for h in handles]
        return states == [JobState.SUCCEEDED] * len(handles)

    await run_worker(app, telemetry, all_done, wait_for)  # finishes while Slow is stuck
    assert slow.seen == []
    release.set()
    assert background.join(10)
    assert slow.seen.count("JobSucceeded") == 5
    background.close()


async def test_cancelled_jobs_are_counted(app: App, wait_for: WaitFor) -> None:
    telemetry = install(app, TelemetryConfig(job_logs=False), logging_setup=False)
    assert telemetry.metrics is not None

    @app.task(name="waits")
    async def waits() -> None:
        await asyncio.sleep(60)

    handle = await waits.aenqueue()
    store = await app.astore()

    async def running() -> bool:
        return (await store.get(handle.id)).state is JobState.RUNNING

    async def cancelled() -> bool:
        if (await store.get(handle.id)).state is JobState.RUNNING:
            await store.cancel(handle.id, "test")
        return (await store.get(handle.id)).state is JobState.CANCELLED

    worker = jobglass.Worker(app, WorkerSettings(heartbeat=0.05), scope=telemetry.job_scope)
    task = asyncio.create_task(worker.run())
    await wait_for(running, 10)
    await wait_for(cancelled, 10)
    worker.request_stop()
    await asyncio.wait_for(task, 10)
    body, _ = await telemetry.metrics.render(store, None)
    got = samples(body.decode())
    key = ("jobglass_jobs_finished_total",
           (("outcome", "cancelled"), ("queue", "default"), ("task", "waits")))
    assert got[key] == 1


def test_the_pools_reconnect_chatter_is_quiet_unless_the_user_set_its_level() -> None:
    from jobglass.observe.logs import configure_logging

    pool = logging.getLogger("psycopg.pool")
    was = pool.level
    stream = io.StringIO()
    try:
        pool.setLevel(logging.NOTSET)
        configure_logging("json", "INFO", stream=stream)
        pool.warning("error connecting in 'jobglass-x': connection refused")
        pool.error("an error still shows")
        assert pool.level == logging.ERROR
        pool.setLevel(logging.DEBUG)  # the user's own choice is kept
        configure_logging("json", "INFO", stream=stream)
        assert pool.level == logging.DEBUG
    finally:
        pool.setLevel(was)
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers
                                        if h.get_name() != "jobglass"]
    events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert events == ["an error still shows"]
