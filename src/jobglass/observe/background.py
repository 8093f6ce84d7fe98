"""Run a slow observer (one that calls Slack, say) off the worker's hot path.

Events go through a bounded queue to a thread of the observer's own; when the
queue is full the event is dropped and counted rather than making jobs wait.
"""

from __future__ import annotations

import logging
import queue
import threading

from jobglass.observe.events import Event
from jobglass.observe.observer import Observer

log = logging.getLogger("jobglass.observe")
_STOP = object()


class Background(Observer):
    def __init__(self, observer: Observer, maxsize: int = 10_000) -> None:
        self.observer = observer
        self.dropped = 0
        self.errors = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"jobglass-observer-{type(observer).__name__}")
        self._thread.start()

    def handle(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is _STOP:
                return
            try:
                self.observer.handle(event)  # type: ignore[arg-type]
            except Exception:
                self.errors += 1
                log.exception("background observer %s failed", type(self.observer).__name__)
            finally:
                self._queue.task_done()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every queued event was handled (for tests and shutdown)."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        self._queue.put(_STOP)
