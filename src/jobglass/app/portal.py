"""One background event loop that runs the async core for sync callers.

The async API is the implementation; `task.enqueue()` and friends hand their
coroutine to this loop and wait, so there is one code path, not twins.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Portal:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="jobglass-portal",
                                          daemon=True)
                thread.start()
                self._loop = loop
            return self._loop

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self._ensure()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError("sync jobglass call made on its own portal loop")
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop
