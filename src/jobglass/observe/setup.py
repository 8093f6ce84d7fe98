"""Wire telemetry into an `App` from one `TelemetryConfig`: logs, metrics, traces,
stored job logs. The CLI calls `install`; library users may too."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TextIO

from structlog.typing import Processor

from jobglass.app import App
from jobglass.observe.config import TelemetryConfig
from jobglass.observe.exporter import MULTIPROC_ENV, MetricsExporter
from jobglass.observe.joblog import JobLogSink, OutputCapture
from jobglass.observe.log_observer import LogObserver
from jobglass.observe.logs import configure_logging
from jobglass.observe.scope import JobScope
from jobglass.observe.task_metrics import TaskEventMetrics
from jobglass.observe.tracing import Tracing, TracingObserver, add_trace_ids, configure_provider
from jobglass.store import Store


@dataclass
class Telemetry:
    config: TelemetryConfig
    metrics: MetricsExporter | None = None
    tracing: Tracing | None = None
    capture: OutputCapture = field(default_factory=OutputCapture)

    def job_scope(self, store: Store) -> JobScope:
        sink = (JobLogSink(store, max_bytes=self.config.job_log_max_bytes)
                if self.config.job_logs else None)
        return JobScope(sink=sink, tracing=self.tracing)


def install(app: App, config: TelemetryConfig, *, logging_setup: bool = True,
            metrics: bool = True, lease: float = 30.0, tracer_provider: Any = None,
            log_stream: TextIO | None = None) -> Telemetry:
    """`log_stream`: where log lines go (default stderr)."""
    import os

    telemetry = Telemetry(config)
    extra: list[Processor] = []
    if config.tracing:
        if tracer_provider is None:
            configure_provider()
        telemetry.tracing = Tracing(config.tracing_consumer, tracer_provider)
        app.enqueue_tracer = telemetry.tracing.enqueue
        app.observer.add(TracingObserver(telemetry.tracing))
        extra.append(add_trace_ids)
    if logging_setup:
        configure_logging(config.log_format, config.log_level, stream=log_stream,
                          extra_processors=extra)
    app.observer.add(LogObserver(config.event_levels))
    if metrics:
        multiproc = MULTIPROC_ENV in os.environ
        telemetry.metrics = MetricsExporter(lease=lease, task_labels=config.task_labels,
                                            exemplars=config.exemplars and not multiproc,
                                            thresholds=config.health)
        telemetry.metrics.attach(app.observer)
        if config.task_event_metrics:
            app.observer.add(TaskEventMetrics(telemetry.metrics.registry,
                                              config.task_event_metrics))
    return telemetry
