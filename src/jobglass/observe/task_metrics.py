"""Task events (`ctx.emit`) mapped to metrics by configuration, not by code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from jobglass.observe import events as ev
from jobglass.observe.config import TaskEventMetric
from jobglass.observe.observer import Observer


class TaskEventMetrics(Observer):
    def __init__(self, registry: CollectorRegistry, mappings: Sequence[TaskEventMetric]) -> None:
        self._by_event: dict[str, list[tuple[TaskEventMetric, Any]]] = {}
        for m in mappings:
            doc = f"From task event {m.event!r}."
            metric: Any
            if m.type == "counter":
                metric = Counter(m.metric, doc, ["queue", "task"], registry=registry)
            elif m.type == "gauge":
                metric = Gauge(m.metric, doc, ["queue", "task"], registry=registry,
                               multiprocess_mode="livemax")
            else:
                metric = Histogram(m.metric, doc, ["queue", "task"], registry=registry)
            self._by_event.setdefault(m.event, []).append((m, metric))

    def on_task_event(self, event: ev.TaskEvent) -> None:
        for mapping, metric in self._by_event.get(event.name, ()):
            child = metric.labels(event.job.queue, event.job.task)
            raw = event.fields.get(mapping.value) if mapping.value else None
            if mapping.type == "counter":
                child.inc(float(raw) if raw is not None else 1.0)
            elif raw is not None:
                (child.set if mapping.type == "gauge" else child.observe)(float(raw))
