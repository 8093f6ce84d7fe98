"""Prometheus metrics: counters and histograms moved by events, in a registry of
jobglass's own (never the global one).

| metric | type | labels | moves when |
|---|---|---|---|
| jobglass_jobs_enqueued_total | counter | queue, task | a job is stored by this process |
| jobglass_jobs_claimed_total | counter | queue, task | a worker claims a job |
| jobglass_jobs_finished_total | counter | queue, task, outcome | an attempt ends (succeeded, failed, timeout, cancelled, interrupted) |
| jobglass_jobs_retried_total | counter | queue, task | a failed attempt is scheduled to retry |
| jobglass_jobs_reaped_total | counter | queue, outcome (requeued, failed) | the reaper takes a job from a dead worker |
| jobglass_stale_reports_total | counter | | a worker's report lost its compare-and-set and was ignored |
| jobglass_observer_errors_total | counter | observer | an observer raised |
| jobglass_task_events_total | counter | queue, task, name | a task called `ctx.emit` (plus any mapped metric) |
| jobglass_job_duration_seconds | histogram | queue, task, outcome | an attempt ends |
| jobglass_queue_wait_seconds | histogram | queue | a job is claimed; measured from `run_at`, so delays and backoff do not count |

With `task_labels="off"` the task label is "" everywhere; an allow-list keeps the
named tasks and folds the rest into "other", so cardinality stays bounded.
Exemplars (`trace_id`) ride on the histograms when OpenMetrics is negotiated.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from prometheus_client import CollectorRegistry, Counter

from jobglass.model import Job
from jobglass.observe import events as ev
from jobglass.observe.job_series import (
    Children,
    JobSeries,
    PlainJobSeries,
    StandardJobSeries,
)
from jobglass.observe.observer import Observer
from jobglass.observe.traceparent import trace_id_of

DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
                    120, 300, 600, 1800, 3600)
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
                900, 3600, 14400)


def task_label_policy(setting: str | Collection[str]) -> Callable[[str], str]:
    if setting == "on":
        return lambda task: task
    if setting == "off":
        return lambda task: ""
    allowed = frozenset(setting)
    return lambda task: task if task in allowed else "other"


class JobMetrics(Observer):
    def __init__(self, registry: CollectorRegistry, *, task_labels: str | Collection[str] = "on",
                 exemplars: bool = True, plain: bool = True) -> None:
        """`plain`: the per-job series as plain numbers rendered at scrape time; False
        (multiprocess mode) keeps prometheus-client's standard objects for them."""
        self.registry = registry
        self.task_label = task_label_policy(task_labels)
        self.exemplars = exemplars
        kind = PlainJobSeries if plain else StandardJobSeries
        self.series: JobSeries = kind(registry, DURATION_BUCKETS, WAIT_BUCKETS)
        self.enqueued = Counter("jobglass_jobs_enqueued", "Jobs stored.", ["queue", "task"],
                                registry=registry)
        self.retried = Counter("jobglass_jobs_retried", "Attempts that failed and will retry.",
                               ["queue", "task"], registry=registry)
        self.reaped = Counter("jobglass_jobs_reaped", "Jobs taken back from dead workers.",
                              ["queue", "outcome"], registry=registry)
        self.stale = Counter("jobglass_stale_reports", "Late worker reports ignored.",
                             registry=registry)
        self.task_events = Counter("jobglass_task_events", "Events emitted by tasks.",
                                   ["queue", "task", "name"], registry=registry)
        self._child = Children()

    def _trace_id(self, job: Job) -> str | None:
        return trace_id_of(job.traceparent) if self.exemplars else None

    def _end(self, job: Job, outcome: str, duration: float) -> None:
        self.series.ended(job.queue, self.task_label(job.task), outcome, duration,
                          self._trace_id(job))

    def on_job_enqueued(self, event: ev.JobEnqueued) -> None:
        self._child(self.enqueued, event.job.queue, self.task_label(event.job.task)).inc()

    def on_job_claimed(self, event: ev.JobClaimed) -> None:
        job = event.job
        self.series.claimed(job.queue, self.task_label(job.task))
        if job.started_at is not None:
            self.series.waited(job.queue, max(0.0, job.started_at - job.run_at),
                               self._trace_id(job))

    def on_job_succeeded(self, event: ev.JobSucceeded) -> None:
        self._end(event.job, "succeeded", event.duration)

    def on_job_failed(self, event: ev.JobFailed) -> None:
        self._end(event.job, event.outcome.value, event.duration)

    def on_job_retrying(self, event: ev.JobRetrying) -> None:
        self._end(event.job, event.outcome.value, event.duration)
        self._child(self.retried, event.job.queue, self.task_label(event.job.task)).inc()

    def on_job_cancelled(self, event: ev.JobCancelled) -> None:
        self._end(event.job, "cancelled", event.duration)

    def on_job_interrupted(self, event: ev.JobInterrupted) -> None:
        self._end(event.job, "interrupted", event.duration)

    def on_job_reaped(self, event: ev.JobReaped) -> None:
        outcome = "requeued" if event.requeued else "failed"
        self._child(self.reaped, event.job.queue, outcome).inc()

    def on_stale_report(self, event: ev.StaleReport) -> None:
        self.stale.inc()

    def on_task_event(self, event: ev.TaskEvent) -> None:
        job = event.job
        self._child(self.task_events, job.queue, self.task_label(job.task), event.name).inc()
