"""Observers watch events; they never change an outcome and never raise into a worker."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable

from jobglass.observe.events import Event

log = logging.getLogger("jobglass.observe")


class Observer:
    """Override the `on_*` methods you care about (named in `events.Event.handler`);
    every other event goes to `on_event`, which does nothing."""

    def on_event(self, event: Event) -> None:
        return None

    def handle(self, event: Event) -> None:
        getattr(self, event.handler, self.on_event)(event)


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

    def _route(self, kind: type[Event]) -> list[tuple[Observer, Callable[[Event], None]]]:
        route: list[tuple[Observer, Callable[[Event], None]]] = []
        for observer in self.observers:
            if type(observer).handle is not Observer.handle:
                route.append((observer, observer.handle))  # it wants everything
                continue
            method = getattr(observer, kind.handler, None)
            base = getattr(Observer, kind.handler, None)
            if method is not None and getattr(method, "__func__", None) is not base:
                route.append((observer, method))
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
