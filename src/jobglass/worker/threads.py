"""A thread pool for sync tasks whose hung threads can be given up on.

`concurrent.futures.ThreadPoolExecutor` cannot replace a thread that never
returns, so a hung task would hold its slot forever. Here a thread can be
abandoned: it is left to finish (daemon, its result dropped) and a fresh thread
takes its place, so the pool keeps its size.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any

_STOP = object()


class _Item:
    __slots__ = ("fn", "future", "loop", "thread")

    def __init__(self, fn: Callable[[], Any], loop: asyncio.AbstractEventLoop,
                 future: asyncio.Future[Any]) -> None:
        self.fn = fn
        self.loop = loop
        self.future = future
        self.thread: threading.Thread | None = None


def _deliver(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class SyncPool:
    def __init__(self, size: int, name: str = "jobglass-task") -> None:
        self._size = size
        self._name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._abandoned: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.abandoned_count = 0
        for _ in range(size):
            self._spawn()

    def _spawn(self) -> None:
        thread = threading.Thread(target=self._run, name=f"{self._name}-{len(self._threads)}",
                                  daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run(self) -> None:
        me = threading.current_thread()
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            item.thread = me
            try:
                value, ok = item.fn(), True
            except BaseException as exc:  # delivered to the awaiting coroutine
                value, ok = exc, False
            if not item.loop.is_closed():
                item.loop.call_soon_threadsafe(_deliver, item.future, ok, value)
            with self._lock:
                if me in self._abandoned:
                    self._abandoned.discard(me)
                    return

    def submit(self, fn: Callable[[], Any]) -> tuple[asyncio.Future[Any], _Item]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        context = contextvars.copy_context()  # the job's ids and log follow it to the thread
        item = _Item(lambda: context.run(fn), loop, future)
        self._queue.put(item)
        return future, item

    def abandon(self, item: _Item) -> bool:
        """Give up on the thread running `item` and start a replacement."""
        thread = item.thread
        if thread is None or not thread.is_alive():
            return False
        with self._lock:
            self._abandoned.add(thread)
            self.abandoned_count += 1
        self._spawn()
        return True

    def shutdown(self) -> None:
        for _ in self._threads:
            self._queue.put(_STOP)
