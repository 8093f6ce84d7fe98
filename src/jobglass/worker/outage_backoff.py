"""Waiting out a store that failed: delays that double, cut short when it is back
(not the retry delay of a failed job: that is `jobglass.model.backoff`).

During an outage the result writer and the claim loop back off to 5 s between
tries. When the store answers again (the heartbeat gets through), waiting out the
rest of a 5 s delay would leave finished jobs unrecorded and free slots unclaimed
for nothing: `wake()` ends the current wait at once.
"""

from __future__ import annotations

import asyncio
import contextlib


class OutageBackoff:
    def __init__(self, first: float = 0.05, cap: float = 5.0) -> None:
        self.first = first
        self.cap = cap
        self.delay = first
        self._woken = asyncio.Event()

    def reset(self) -> None:
        """After a success: the next failure waits `first` again."""
        self.delay = self.first

    async def wait(self) -> None:
        """Wait the current delay (or until `wake()`), then double it up to `cap`."""
        self._woken.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), self.delay)
        self.delay = min(self.delay * 2, self.cap)

    def wake(self) -> None:
        """The store answered again: end the wait in progress, if any."""
        self._woken.set()
