"""Serve the metrics: one registry with the event metrics, the store gauges and the
observer-error counter, rendered in the format the scraper asks for.

Under `--processes P` each child writes its counters to files in
PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode) and the
supervisor serves their sum, with the store gauges sampled once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.exposition import choose_encoder

from jobglass.observe.gauges import StoreGauges
from jobglass.observe.health import Thresholds
from jobglass.observe.metrics import JobMetrics
from jobglass.observe.observer import FanOut
from jobglass.store import Store

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class MetricsExporter:
    def __init__(self, *, lease: float = 30.0, task_labels: str | Collection[str] = "on",
                 exemplars: bool = True, aggregate_children: bool = False,
                 thresholds: Thresholds | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.gauges = StoreGauges(lease, thresholds)
        self.registry.register(self.gauges)
        self.job_metrics: JobMetrics | None = None
        self.observer_errors: Counter | None = None
        if aggregate_children:
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
                self.registry, os.environ[MULTIPROC_ENV])
            return
        self.job_metrics = JobMetrics(self.registry, task_labels=task_labels,
                                      exemplars=exemplars,
                                      plain=MULTIPROC_ENV not in os.environ)
        self.observer_errors = Counter("jobglass_observer_errors", "Observers that raised.",
                                       ["observer"], registry=self.registry)

    def attach(self, fanout: FanOut) -> None:
        if self.job_metrics is not None:
            fanout.add(self.job_metrics)
        counter = self.observer_errors
        if counter is not None:
            fanout.on_error = lambda name: counter.labels(name).inc()

    async def render(self, store: Store | None, accept: str | None) -> tuple[bytes, str]:
        """Sample the store, then encode everything (OpenMetrics when asked for)."""
        if store is not None:
            await self.gauges.refresh(store)
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

    def serve_in_thread(self, port: int, host: str, refresher: Callable[[], None]) -> None:
        """A plain HTTP /metrics for worker processes (no API server there)."""
        from prometheus_client import start_http_server

        self.gauges.refresher = refresher
        start_http_server(port, addr=host, registry=self.registry)
