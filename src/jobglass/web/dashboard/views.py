"""What each page shows, read from the store: plain records the templates lay out.

Every read here is bounded by active jobs, one job, or the last hour's per-minute
rows; nothing counts history, so a page costs the same at a thousand jobs or ten
million.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from jobglass.model import Attempt, Job, JobNotFound, JobState, LogLine
from jobglass.model.health import HealthSample
from jobglass.observe.health import StoreWatch, Thresholds, Verdict, check_store, verdict
from jobglass.observe.redact import Redactor
from jobglass.store import Store
from jobglass.web.dashboard.charts import Chart, last_hour
from jobglass.web.serialize import queue_json, worker_json

LOG_LINES = 500  # lines of one attempt shown at once; "more" reads on by cursor
RELATIVES = 50  # parents or children listed on a job's page
CANCELLABLE = frozenset({JobState.BLOCKED, JobState.QUEUED, JobState.RUNNING})
RETRYABLE = frozenset({JobState.FAILED, JobState.CANCELLED})


@dataclass(slots=True)
class Overview:
    verdict: Verdict
    queues: list[dict[str, Any]]
    charts: list[Chart]
    workers: list[dict[str, Any]]
    active: dict[str, int]

    @property
    def problems(self) -> list[Any]:
        return [c for c in self.verdict.checks if c.status.value not in ("ok", "unknown")]

    @property
    def alive(self) -> int:
        return sum(1 for w in self.workers if w["alive"])

    @property
    def dead(self) -> int:
        return len(self.workers) - self.alive


async def overview(store: Store, t: Thresholds, watch: StoreWatch) -> Overview:
    now = time.time()
    sample: HealthSample | None = None
    error: str | None = None
    try:
        sample = await asyncio.wait_for(
            store.health_sample(silent_after=t.silent_after, window=t.window, now=now), 5.0)
    except Exception as exc:  # the verdict says so; the page still renders
        error = str(exc) or type(exc).__name__
    since = watch.seen(sample is not None, now)
    judged = verdict(sample, t, check_store(error, since, now))
    if sample is None:
        return Overview(judged, [], last_hour([], now), [], {})
    stats = {q.queue: q for q in sample.queues}
    done = {q.queue: q for q in sample.throughput}
    queues = [queue_json(n, stats.get(n), done.get(n), t.window)
              for n in sorted(set(stats) | set(done))]
    active = {s: sum(q["counts"][s] for q in queues) for s in ("blocked", "queued", "running")}
    charts = last_hour(await store.read_stats(now - 3600), now)
    return Overview(judged, queues, charts, await workers(store, t, now=now), active)


async def queues(store: Store, t: Thresholds) -> list[dict[str, Any]]:
    now = time.time()
    stats = {q.queue: q for q in await store.queue_stats(now=now)}
    done = {q.queue: q for q in await store.throughput(t.window, now=now)}
    return [queue_json(n, stats.get(n), done.get(n), t.window)
            for n in sorted(set(stats) | set(done))]


async def queue_charts(store: Store, name: str) -> list[Chart]:
    now = time.time()
    return last_hour(await store.read_stats(now - 3600, queue=name), now)


async def workers(store: Store, t: Thresholds, *, now: float | None = None
                  ) -> list[dict[str, Any]]:
    """Alive first (newest first), then the dead and stopped with what they held."""
    when = time.time() if now is None else now
    found = [worker_json(w, when, t.worker_dead_after) for w in await store.workers()]
    for w in found:
        evidence = w["evidence"] or {}
        w["held"] = list(evidence.get("held_jobs") or ([] if w["alive"] else
                                                       w["current_jobs"]))
    return sorted(found, key=lambda w: (not w["alive"], -w["last_heartbeat"]))


@dataclass(slots=True)
class AttemptView:
    attempt: Attempt
    waited: float | None  # since created (first) or the previous attempt's end (later)
    took: float | None  # ended - started, or so far for a running one
    queued: float | None = None  # ready but not started (exact; None for old attempts)
    scheduled: float | None = None  # delay or retry backoff before it became ready
    logs: list[LogLine] = field(default_factory=list)
    more: bool = False  # more lines than shown
    live: bool = False  # the job is running this attempt: its log is tailed

    @property
    def last_log_id(self) -> int:
        return (self.logs[-1].id or 0) if self.logs else 0


@dataclass(slots=True)
class Relative:
    id: int
    state: str | None  # None: pruned
    task: str | None


@dataclass(slots=True)
class JobPage:
    job: Job
    shown: dict[str, Any]  # args, kwargs, result: redacted
    attempts: list[AttemptView]
    parents: list[Relative]
    children: list[Relative]
    more_children: int
    can_cancel: bool
    can_retry: bool


async def _relatives(store: Store, ids: list[int]) -> list[Relative]:
    found = []
    for job_id in ids[:RELATIVES]:
        try:
            other = await store.get(job_id)
            found.append(Relative(job_id, other.state.value, other.task))
        except JobNotFound:
            found.append(Relative(job_id, None, None))
    return found


async def attempt_logs(store: Store, job_id: int, number: int, after: int = 0
                       ) -> tuple[list[LogLine], bool]:
    lines = await store.read_logs(job_id, attempt=number, after_id=after, limit=LOG_LINES + 1)
    return lines[:LOG_LINES], len(lines) > LOG_LINES


async def job_page(store: Store, job_id: int, redact: Redactor) -> JobPage:
    job = await store.get(job_id)
    tried = await store.attempts(job_id)
    now = time.time()
    views: list[AttemptView] = []
    previous_end: float | None = None
    for attempt in tried:
        since = job.created_at if previous_end is None else previous_end
        took = None if attempt.started_at is None else (
            (attempt.ended_at or now) - attempt.started_at)
        view = AttemptView(attempt, max(0.0, attempt.started_at - since), took,
                           attempt.queue_wait, None if attempt.ready_at is None
                           else max(0.0, attempt.ready_at - since))
        view.logs, view.more = await attempt_logs(store, job_id, attempt.number)
        view.live = (job.state is JobState.RUNNING and attempt.number == job.attempt
                     and attempt.ended_at is None)
        views.append(view)
        previous_end = attempt.ended_at
    kids = await store.children(job_id)
    return JobPage(
        job=job,
        shown={"args": redact(job.args), "kwargs": redact(job.kwargs),
               "result": redact(job.result)},
        attempts=views,
        parents=await _relatives(store, list(job.parents)),
        children=await _relatives(store, kids),
        more_children=max(0, len(kids) - RELATIVES),
        can_cancel=job.state in CANCELLABLE and not job.cancel_requested,
        can_retry=job.state in RETRYABLE,
    )
