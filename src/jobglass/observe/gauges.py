"""Scrape-time gauges, sampled from the store — never kept by inc/dec, so they are
right after any crash and agree across every process that serves them.

| metric | labels | what |
|---|---|---|
| jobglass_jobs | queue, state | active jobs (blocked, queued, running) |
| jobglass_queue_oldest_ready_age_seconds | queue | how long the oldest ready job has waited since its run_at |
| jobglass_queue_paused | queue | 1 when paused |
| jobglass_workers | state (alive, dead, stopped) | alive: heartbeat within the lease |
| jobglass_jobs_in_flight | | running jobs, all queues |
| jobglass_jobs_stuck | queue, reason (past_timeout, worker_silent) | running jobs the health check's stuck_jobs counts (up to 1,000) |
| jobglass_store_up | | 1 when the sample worked; 0 and no job gauges when it did not |
| jobglass_store_error_info | error | present while the store cannot be sampled, saying why |

The store's queries count active rows only, through partial indexes, so a scrape
costs the same with a thousand finished jobs or ten million. Stuck jobs are judged
by the health verdict's own rule (`health.stuck_reason`) and thresholds, so an alert
on the gauge and `jobglass health` agree.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from jobglass.model import DEFAULT_LEASE, QueueStats, WorkerInfo
from jobglass.model.health import Suspect
from jobglass.observe.health import Stuck, Thresholds, stuck_reason
from jobglass.store import Store

STUCK_LIMIT = 1000  # suspects read per scrape: the gauge counts at most this many


@dataclass(slots=True)
class StoreSample:
    queues: list[QueueStats]
    workers: list[WorkerInfo]
    suspects: list[Suspect]
    taken_at: float


def worker_state(worker: WorkerInfo, lease: float, now: float) -> str:
    """Alive: heard from within `lease`, stretched to the worker's own lease."""
    if worker.state == "running":
        return "alive" if worker.alive_at(now, lease) else "dead"
    return worker.state


class StoreGauges(Collector):
    def __init__(self, lease: float = DEFAULT_LEASE, thresholds: Thresholds | None = None
                 ) -> None:
        self.lease = lease
        self.thresholds = thresholds or Thresholds()
        self.sample: StoreSample | None = None
        self.error: str | None = None
        self.refresher: Callable[[], None] | None = None  # for sync servers: sample on collect

    async def refresh(self, store: Store) -> None:
        try:
            now = time.time()
            self.sample = StoreSample(
                await store.queue_stats(), await store.workers(),
                await store.suspects(silent_after=self.thresholds.silent_after, now=now,
                                     limit=STUCK_LIMIT), now)
            self.error = None
        except Exception as exc:
            self.sample = None
            self.error = f"{type(exc).__name__}: {exc}"[:200]

    def collect(self) -> Iterator[Metric]:
        if self.refresher is not None:
            self.refresher()
        up = GaugeMetricFamily("jobglass_store_up", "1 when the store could be sampled.")
        up.add_metric([], 0.0 if self.sample is None else 1.0)
        yield up
        if self.sample is None:
            info = GaugeMetricFamily("jobglass_store_error_info",
                                     "Why the store could not be sampled.", labels=["error"])
            info.add_metric([self.error or "not sampled yet"], 1.0)
            yield info
            return
        yield from self._job_gauges(self.sample)
        yield self._worker_gauge(self.sample)

    def _job_gauges(self, sample: StoreSample) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("jobglass_jobs", "Active jobs by queue and state.",
                                 labels=["queue", "state"])
        oldest = GaugeMetricFamily("jobglass_queue_oldest_ready_age_seconds",
                                   "Wait of the oldest ready job since its run_at.",
                                   labels=["queue"])
        paused = GaugeMetricFamily("jobglass_queue_paused", "1 when the queue is paused.",
                                   labels=["queue"])
        in_flight = 0
        for q in sample.queues:
            for state, count in q.counts.items():
                jobs.add_metric([q.queue, state.value], float(count))
                if state.value == "running":
                    in_flight += count
            oldest.add_metric([q.queue], q.oldest_ready_age or 0.0)
            paused.add_metric([q.queue], 1.0 if q.paused else 0.0)
        flight = GaugeMetricFamily("jobglass_jobs_in_flight", "Running jobs, all queues.")
        flight.add_metric([], float(in_flight))
        yield from (jobs, oldest, paused, flight, self._stuck_gauge(sample))

    def _stuck_gauge(self, sample: StoreSample) -> Metric:
        gauge = GaugeMetricFamily(
            "jobglass_jobs_stuck", "Running jobs past their timeout (plus grace) or whose"
            " worker is silent, dead or gone: the health check's stuck_jobs.",
            labels=["queue", "reason"])
        counts = {(q.queue, reason): 0 for q in sample.queues for reason in Stuck}
        for suspect in sample.suspects:
            reason = stuck_reason(suspect, sample.taken_at, self.thresholds)
            if reason is not None:
                key = (suspect.queue, reason)
                counts[key] = counts.get(key, 0) + 1
        for (queue, reason), count in sorted(counts.items()):
            gauge.add_metric([queue, reason.value], float(count))
        return gauge

    def _worker_gauge(self, sample: StoreSample) -> Metric:
        gauge = GaugeMetricFamily("jobglass_workers", "Workers by state.", labels=["state"])
        counts = {"alive": 0, "dead": 0, "stopped": 0}
        for w in sample.workers:
            state = worker_state(w, self.lease, sample.taken_at)
            counts[state] = counts.get(state, 0) + 1
        for state, count in counts.items():
            gauge.add_metric([state], float(count))
        return gauge
