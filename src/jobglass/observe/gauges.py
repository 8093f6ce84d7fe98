"""Scrape-time gauges, sampled from the store — never kept by inc/dec, so they are
right after any crash and agree across every process that serves them.

| metric | labels | what |
|---|---|---|
| jobglass_jobs | queue, state | active jobs (blocked, queued, running) |
| jobglass_queue_oldest_ready_age_seconds | queue | how long the oldest ready job has waited since its run_at |
| jobglass_queue_paused | queue | 1 when paused |
| jobglass_workers | state (alive, dead, stopped) | alive: heartbeat within the lease |
| jobglass_jobs_in_flight | | running jobs, all queues |
| jobglass_store_up | | 1 when the sample worked; 0 and no job gauges when it did not |
| jobglass_store_error_info | error | present while the store cannot be sampled, saying why |

The store's queries count active rows only, through partial indexes, so a scrape
costs the same with a thousand finished jobs or ten million.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from jobglass.model import DEFAULT_LEASE, QueueStats, WorkerInfo
from jobglass.store import Store


@dataclass(slots=True)
class StoreSample:
    queues: list[QueueStats]
    workers: list[WorkerInfo]
    taken_at: float


def worker_state(worker: WorkerInfo, lease: float, now: float) -> str:
    """Alive: heard from within `lease`, stretched to the worker's own lease."""
    if worker.state == "running":
        return "alive" if worker.alive_at(now, lease) else "dead"
    return worker.state


class StoreGauges(Collector):
    def __init__(self, lease: float = DEFAULT_LEASE) -> None:
        self.lease = lease
        self.sample: StoreSample | None = None
        self.error: str | None = None
        self.refresher: Callable[[], None] | None = None  # for sync servers: sample on collect

    async def refresh(self, store: Store) -> None:
        try:
            self.sample = StoreSample(await store.queue_stats(), await store.workers(),
                                      time.time())
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
        yield from (jobs, oldest, paused, flight)

    def _worker_gauge(self, sample: StoreSample) -> Metric:
        gauge = GaugeMetricFamily("jobglass_workers", "Workers by state.", labels=["state"])
        counts = {"alive": 0, "dead": 0, "stopped": 0}
        for w in sample.workers:
            state = worker_state(w, self.lease, sample.taken_at)
            counts[state] = counts.get(state, 0) + 1
        for state, count in counts.items():
            gauge.add_metric([state], float(count))
        return gauge
