"""Write attempt reports to the store in batches.

No linger timer: the first report after a quiet spell is written at once, and
reports that arrive while a write is in flight go together in the next one, so
batches grow exactly as fast as the store is slow. A failed write keeps its
reports and tries again; nothing is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from jobglass.observe.logs import get_logger
from jobglass.store import Report, Store
from jobglass.store.cancel import raise_if_cancelled
from jobglass.worker.execute import Running
from jobglass.worker.outage_backoff import OutageBackoff

log = get_logger("jobglass.worker")


class Completer:
    def __init__(self, store: Store, on_result: Callable[[Running, Report, bool], None],
                 max_batch: int = 500,
                 before_write: Callable[[], Awaitable[None]] | None = None,
                 after_write: Callable[[], None] | None = None) -> None:
        self.store = store
        self.before_write = before_write  # e.g. store job logs before the job shows as ended
        self.after_write = after_write  # e.g. let the worker claim again
        self.on_result = on_result
        self.max_batch = max_batch
        self._pending: list[tuple[Running, Report]] = []
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self.backoff = OutageBackoff()  # woken by the worker when the store answers again

    @property
    def backlog(self) -> int:
        """Reports not stored yet, the batch being written included."""
        return len(self._pending)

    def waiting(self) -> set[int]:
        """Ids of jobs that ran here and whose reports are not stored yet: the store
        still shows them running on this worker, and they are ours."""
        return {report.job_id for _, report in self._pending}

    def add(self, run: Running, report: Report) -> None:
        self._pending.append((run, report))
        self._idle.clear()
        self._ready.set()

    async def run(self) -> None:
        backoff = self.backoff
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._pending:
                batch = self._pending[: self.max_batch]
                try:
                    if self.before_write is not None:
                        await self.before_write()
                    applied = await self.store.finish_many([r for _, r in batch])
                except Exception as exc:  # StoreUnavailable, a locked database ...
                    raise_if_cancelled()
                    log.warning("could not record results, will retry", results=len(batch),
                                retry_in_s=backoff.delay, error=str(exc))
                    await backoff.wait()
                    continue
                backoff.reset()
                del self._pending[: len(batch)]
                for (run, report), ok in zip(batch, applied, strict=True):
                    self.on_result(run, report, ok)
                if self.after_write is not None:
                    self.after_write()
            self._idle.set()

    async def drain(self) -> None:
        """Wait until every report so far is written."""
        if self._pending:
            self._ready.set()
            await self._idle.wait()
