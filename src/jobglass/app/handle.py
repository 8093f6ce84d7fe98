"""A reference to an enqueued job that can wait for its result."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from jobglass.model import Job, JobFailed, JobState
from jobglass.model.states import TERMINAL

if TYPE_CHECKING:
    from jobglass.app.app import App


class JobHandle:
    __slots__ = ("_app", "job")  # a batch returns a thousand: no dict each

    def __init__(self, app: App, job: Job) -> None:
        self._app = app
        self.job = job

    @property
    def id(self) -> int:
        return self.job.id

    def __repr__(self) -> str:
        return f"<JobHandle {self.job.id} {self.job.task} {self.job.state}>"

    async def arefresh(self) -> Job:
        store = await self._app.astore()
        self.job = await store.get(self.job.id)
        return self.job

    def refresh(self) -> Job:
        return self._app.portal.call(self.arefresh())

    async def aresult(self, timeout: float | None = None, poll: float = 0.01) -> Any:
        """Wait until the job ends; return its result or raise `JobFailed`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = poll
        while True:
            job = await self.arefresh()
            if job.state in TERMINAL:
                if job.state is JobState.SUCCEEDED:
                    return job.result
                raise JobFailed(job.id, job.state.value, job.error or job.reason)
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"job {job.id} is still {job.state} after {timeout}s")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def result(self, timeout: float | None = None) -> Any:
        return self._app.portal.call(self.aresult(timeout))
