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

    def add(self, observer: Observer) -> None:
        self.observers.append(observer)

    def handle(self, event: Event) -> None:
        for observer in self.observers:
            try:
                observer.handle(event)
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
