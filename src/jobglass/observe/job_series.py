"""The four series every job moves — claimed, finished, run time, queue wait — in two
interchangeable forms.

`PlainJobSeries` keeps them as plain numbers and lets prometheus-client render them
at scrape time (a custom collector): about 1 µs a job, where the standard metric
objects cost ~6 µs (a lock and several calls per update), a tenth of a no-op job.
`StandardJobSeries` uses the standard objects; it is the one for multiprocess mode,
because only they write prometheus-client's shared files that the supervisor sums.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.samples import Exemplar
from prometheus_client.utils import floatToGoString

# prometheus-client's own bucket-bound format ("0.005", "1.0", "+Inf"); untyped there.
_bound_name: Callable[[float], str] = floatToGoString

CLAIMED = ("jobglass_jobs_claimed", "Jobs claimed by a worker.")
FINISHED = ("jobglass_jobs_finished", "Attempts ended, by outcome.")
DURATION = ("jobglass_job_duration_seconds", "Attempt run time.")
WAIT = ("jobglass_queue_wait_seconds", "Time from a job being ready (run_at) to its claim.")


class JobSeries(Protocol):
    def claimed(self, queue: str, task: str) -> None: ...

    def waited(self, queue: str, seconds: float, trace_id: str | None) -> None: ...

    def ended(self, queue: str, task: str, outcome: str, seconds: float,
              trace_id: str | None) -> None: ...


class _Histogram:
    """One label set: a count per bucket (not cumulative), the sum, and the newest
    exemplar per bucket."""

    __slots__ = ("counts", "exemplars", "total")

    def __init__(self, size: int) -> None:
        self.counts = [0] * size
        self.total = 0.0
        self.exemplars: dict[int, Exemplar] = {}


class PlainJobSeries:
    def __init__(self, registry: CollectorRegistry, duration_buckets: Sequence[float],
                 wait_buckets: Sequence[float]) -> None:
        self._duration_bounds = list(duration_buckets)
        self._wait_bounds = list(wait_buckets)
        self._claimed: dict[tuple[str, str], int] = {}
        self._finished: dict[tuple[str, str, str], int] = {}
        self._duration: dict[tuple[str, str, str], _Histogram] = {}
        self._wait: dict[str, _Histogram] = {}
        # Workers on several loops of one process may update at once.
        self._lock = threading.Lock()
        registry.register(self)

    def claimed(self, queue: str, task: str) -> None:
        key = (queue, task)
        with self._lock:
            self._claimed[key] = self._claimed.get(key, 0) + 1

    def waited(self, queue: str, seconds: float, trace_id: str | None) -> None:
        with self._lock:
            series = self._wait.get(queue)
            if series is None:
                series = self._wait[queue] = _Histogram(len(self._wait_bounds) + 1)
            _observe(series, self._wait_bounds, seconds, trace_id)

    def ended(self, queue: str, task: str, outcome: str, seconds: float,
              trace_id: str | None) -> None:
        key = (queue, task, outcome)
        with self._lock:
            self._finished[key] = self._finished.get(key, 0) + 1
            series = self._duration.get(key)
            if series is None:
                series = self._duration[key] = _Histogram(len(self._duration_bounds) + 1)
            _observe(series, self._duration_bounds, seconds, trace_id)

    # -- the scrape: a prometheus-client collector ----------------------------------
    def describe(self) -> list[Metric]:
        return []  # names are known only once jobs ran; nothing to check up front

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            claimed = dict(self._claimed)
            finished = dict(self._finished)
            duration = {k: _copy(h) for k, h in self._duration.items()}
            wait = {k: _copy(h) for k, h in self._wait.items()}
        yield _counter(CLAIMED, ["queue", "task"], claimed)
        yield _counter(FINISHED, ["queue", "task", "outcome"], finished)
        yield _histogram(DURATION, ["queue", "task", "outcome"], self._duration_bounds,
                         duration)
        yield _histogram(WAIT, ["queue"], self._wait_bounds,
                         {(queue,): h for queue, h in wait.items()})


def _observe(series: _Histogram, bounds: list[float], seconds: float,
             trace_id: str | None) -> None:
    index = bisect_left(bounds, seconds)  # the first bucket whose bound >= seconds
    series.counts[index] += 1
    series.total += seconds
    if trace_id is not None:
        series.exemplars[index] = Exemplar({"trace_id": trace_id}, seconds, time.time())


def _copy(series: _Histogram) -> _Histogram:
    copy = _Histogram(0)
    copy.counts, copy.total, copy.exemplars = list(series.counts), series.total, dict(
        series.exemplars)
    return copy


def _counter(meta: tuple[str, str], labels: list[str],
             values: dict[Any, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(meta[0], meta[1], labels=labels)
    for key, value in values.items():
        family.add_metric(list(key), float(value))
    return family


def _histogram(meta: tuple[str, str], labels: list[str], bounds: list[float],
               values: dict[Any, _Histogram]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(meta[0], meta[1], labels=labels)
    names = [_bound_name(b) for b in bounds] + ["+Inf"]
    for key, series in values.items():
        buckets: list[Any] = []
        running = 0
        for index, name in enumerate(names):
            running += series.counts[index]
            exemplar = series.exemplars.get(index)
            buckets.append((name, float(running), exemplar) if exemplar else (name, float(running)))
        family.add_metric(list(key), buckets, series.total)
    return family


class Children:
    """Labelled children of standard metrics, looked up once per label set
    (`metric.labels(...)` validates its arguments on every call)."""

    def __init__(self) -> None:
        self._children: dict[tuple[Any, ...], Any] = {}

    def __call__(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child


class StandardJobSeries:
    def __init__(self, registry: CollectorRegistry, duration_buckets: Sequence[float],
                 wait_buckets: Sequence[float]) -> None:
        self._claimed = Counter(*CLAIMED, ["queue", "task"], registry=registry)
        self._finished = Counter(*FINISHED, ["queue", "task", "outcome"], registry=registry)
        self._duration = Histogram(*DURATION, ["queue", "task", "outcome"],
                                   buckets=duration_buckets, registry=registry)
        self._wait = Histogram(*WAIT, ["queue"], buckets=wait_buckets, registry=registry)
        self._child = Children()

    def claimed(self, queue: str, task: str) -> None:
        self._child(self._claimed, queue, task).inc()

    def waited(self, queue: str, seconds: float, trace_id: str | None) -> None:
        self._child(self._wait, queue).observe(
            seconds, exemplar={"trace_id": trace_id} if trace_id else None)

    def ended(self, queue: str, task: str, outcome: str, seconds: float,
              trace_id: str | None) -> None:
        self._child(self._finished, queue, task, outcome).inc()
        self._child(self._duration, queue, task, outcome).observe(
            seconds, exemplar={"trace_id": trace_id} if trace_id else None)
