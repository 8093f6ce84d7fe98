"""Running workers: in this process, or supervised child processes."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from jobglass.app import App
from jobglass.worker import Worker, WorkerSettings

log = logging.getLogger("jobglass.cli")


def run_worker(app: App, settings: WorkerSettings,
               extra: Callable[[Worker], Coroutine[Any, Any, None]] | None = None) -> int:
    """Run one worker until SIGTERM/SIGINT; return its exit code."""

    async def main() -> int:
        worker = Worker(app, settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.request_stop)
        side = asyncio.create_task(extra(worker)) if extra else None
        try:
            return await worker.run()
        finally:
            if side is not None:
                side.cancel()
                await asyncio.gather(side, return_exceptions=True)
            await app.aclose()

    return asyncio.run(main())
