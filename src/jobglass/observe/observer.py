"""Observers watch events; they never change an outcome and never raise into a worker."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable

from jobglass.observe import events as ev
from jobglass.observe.events import Event

log = logging.getLogger("jobglass.observe")


class Observer:
    """Override the `on_*` methods you care about; each defaults to `on_event`, which
    does nothing. Observers run on the worker's event loop: keep them quick, or wrap
    a slow one in `jobglass.observe.Background`."""

    def on_event(self, event: Event) -> None:
        return None

    def handle(self, event: Event) -> None:
        getattr(self, event.handler, self.on_event)(event)

    def wants(self, kind: type[Event]) -> bool:
        """Whether events of this type should be delivered at all. A `FanOut` asks once
        per type (again after `reroute`), so an observer that drops a type costs
        nothing for it."""
        return True

    def on_job_enqueued(self, event: ev.JobEnqueued) -> None:
        self.on_event(event)

    def on_job_claimed(self, event: ev.JobClaimed) -> None:
        self.on_event(event)

    def on_job_started(self, event: ev.JobStarted) -> None:
        self.on_event(event)

    def on_job_progress(self, event: ev.JobProgress) -> None:
        self.on_event(event)

    def on_job_retrying(self, event: ev.JobRetrying) -> None:
        self.on_event(event)

    def on_job_succeeded(self, event: ev.JobSucceeded) -> None:
        self.on_event(event)

    def on_job_failed(self, event: ev.JobFailed) -> None:
        self.on_event(event)

    def on_job_cancelled(self, event: ev.JobCancelled) -> None:
        self.on_event(event)

    def on_job_interrupted(self, event: ev.JobInterrupted) -> None:
        self.on_event(event)

    def on_job_reaped(self, event: ev.JobReaped) -> None:
        self.on_event(event)

    def on_stale_report(self, event: ev.StaleReport) -> None:
        self.on_event(event)

    def on_worker_started(self, event: ev.WorkerStarted) -> None:
        self.on_event(event)

    def on_worker_heartbeat(self, event: ev.WorkerHeartbeat) -> None:
        self.on_event(event)

    def on_worker_stopped(self, event: ev.WorkerStopped) -> None:
        self.on_event(event)

    def on_worker_lost(self, event: ev.WorkerLost) -> None:
        self.on_event(event)

    def on_task_event(self, event: ev.TaskEvent) -> None:
        self.on_event(event)


class FanOut(Observer):
    """Delivers each event to every child in order; a child that raises is logged and
    counted, and the others still get the event."""

    def __init__(self, observers: Iterable[Observer] = ()) -> None:
        self.observers: list[Observer] = list(observers)
        self.errors: Counter[str] = Counter()
        self.on_error: Callable[[str], None] | None = None  # e.g. a metrics counter
        # Per event type, the bound methods that want it: no getattr per event, and
        # observers that ignore a type cost nothing for it.
        self._routes: dict[type[Event], list[tuple[Observer, Callable[[Event], None]]]] = {}

    def add(self, observer: Observer) -> None:
        self.observers.append(observer)
        self._routes.clear()

    def reroute(self) -> None:
        """Ask every observer again which event types it wants (after a level change)."""
        self._routes.clear()

    def _route(self, kind: type[Event]) -> list[tuple[Observer, Callable[[Event], None]]]:
        route: list[tuple[Observer, Callable[[Event], None]]] = []
        for observer in self.observers:
            if not observer.wants(kind):
                continue
            if type(observer).handle is not Observer.handle:
                route.append((observer, observer.handle))  # it wants everything
                continue
            own = getattr(type(observer), kind.handler, None)
            if own is not None and own is not getattr(Observer, kind.handler, None):
                route.append((observer, getattr(observer, kind.handler)))
            elif type(observer).on_event is not Observer.on_event:
                route.append((observer, observer.on_event))
        self._routes[kind] = route
        return route

    def handle(self, event: Event) -> None:
        route = self._routes.get(type(event))
        if route is None:
            route = self._route(type(event))
        for observer, method in route:
            try:
                method(event)
            except Exception:
                name = type(observer).__name__
                self.errors[name] += 1
                if self.on_error is not None:
                    self.on_error(name)
                log.exception("observer %s failed on %s", name, type(event).__name__)


class Recorder(Observer):
    """Keeps every event in memory; for users' tests."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)

    def of_type(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]
