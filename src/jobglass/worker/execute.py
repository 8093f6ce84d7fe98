"""Run one claimed job: resolve its code, run it under its timeout, and say how it ended.

Async tasks run on the worker's event loop and are cancelled to stop them. Sync
tasks run in the `SyncPool`; to stop one its context is flagged, it gets `grace`
seconds to notice, and then its thread is abandoned (and `on_hung` is told, so a
supervised worker process can be replaced).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from jobglass.app import App, Context
from jobglass.app.signals import DontRetry
from jobglass.model import Job, JobKind, Outcome
from jobglass.observe.joblog import current_attempt
from jobglass.observe.logs import get_logger
from jobglass.store import Report
from jobglass.worker.outcome import failure_report, stopped_report, success_report
from jobglass.worker.shell import run_shell
from jobglass.worker.threads import SyncPool

log = get_logger("jobglass.worker")


_PLAIN = (type(None), str, int, bool)


class ShellCommandFailed(Exception):
    pass


@dataclass(slots=True, eq=False)
class Running:
    job: Job
    ctx: Context
    started: float = field(default_factory=time.time)
    stop_reason: str | None = None  # cancelled | interrupted | lost
    task: asyncio.Task[Report | None] | None = None
    # The attempt's context as its code ended (its span current), when traced: the
    # outcome is told in it, so the line saying how the attempt ended names its trace.
    context: contextvars.Context | None = None

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            self.ctx.request_cancel(reason)
            if self.task is not None:
                self.task.cancel()


def signature_mismatch(fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]
                       ) -> DontRetry | None:
    """Whether a TypeError came from the call itself — arguments that do not fit the
    task's signature, which no retry can fix — rather than from the task's own code."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to check against
        return None
    with contextlib.suppress(Exception):  # annotations as written, not as strings
        signature = inspect.signature(fn, eval_str=True)
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        return DontRetry(f"the job's arguments do not fit {fn.__name__}{signature}: {exc}")
    return None


class Executor:
    def __init__(self, app: App, pool: SyncPool, *, grace: float,
                 on_hung: Callable[[Job], None]) -> None:
        self.app = app
        self.pool = pool
        self.grace = grace
        self.on_hung = on_hung

    async def execute(self, run: Running) -> Report | None:
        job = run.job
        options = None
        deadline = asyncio.timeout(job.timeout) if job.timeout is not None else None
        try:
            if job.kind is JobKind.SHELL:
                code: Coroutine[Any, Any, Any] = self._shell(job)
            else:
                task = self.app.get_task(job.task)
                options = task.options
                code = self._python(task.fn, task.is_async, task.takes_context, run)
            if deadline is None:  # most jobs: no async context manager to enter and leave
                value = await code
            else:
                async with deadline:
                    value = await code
        except asyncio.CancelledError:
            if run.stop_reason is None:
                raise
            return self._stopped(run)
        except Exception as exc:
            if run.stop_reason is not None:
                return self._stopped(run)
            if deadline is not None and deadline.expired():
                return failure_report(job, TimeoutError(f"timed out after {job.timeout}s"),
                                      Outcome.TIMEOUT, options)
            return failure_report(job, exc, Outcome.FAILED, options)
        except SystemExit as exc:  # a task calling sys.exit() fails; the worker goes on
            return failure_report(job, exc, Outcome.FAILED, options)
        if run.stop_reason is not None:
            return self._stopped(run)
        try:
            if not isinstance(value, _PLAIN):  # the common results need no check
                json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return failure_report(job, DontRetry(f"the result is not JSON: {exc}"),
                                  Outcome.FAILED, options)
        return success_report(job, value)

    def _stopped(self, run: Running) -> Report | None:
        reason = run.stop_reason
        if reason == "lost":
            return None  # the reaper or another worker owns the job now
        if reason == "interrupted":
            return stopped_report(run.job, Outcome.INTERRUPTED, "worker shut down")
        return stopped_report(run.job, Outcome.CANCELLED, run.job.reason)

    async def _python(self, fn: Callable[..., Any], is_async: bool, takes_context: bool,
                      run: Running) -> Any:
        job = run.job
        args = ([run.ctx] if takes_context else []) + list(job.args)
        try:
            if is_async:
                return await fn(*args, **job.kwargs)
            return await self._in_thread(fn, args, run)
        except TypeError as exc:
            mismatch = signature_mismatch(fn, args, job.kwargs)
            if mismatch is None:
                raise
            raise mismatch from exc

    async def _in_thread(self, fn: Callable[..., Any], args: list[Any], run: Running) -> Any:
        job = run.job
        future, item = self.pool.submit(lambda: fn(*args, **job.kwargs))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            run.ctx.request_cancel(run.stop_reason or "timeout")
            if run.stop_reason != "interrupted":
                await asyncio.wait([future], timeout=self.grace)
            if not future.done() and self.pool.abandon(item):
                log.error("sync task ignored cancellation; its thread is abandoned",
                          job_id=job.id, task=job.task, grace_s=self.grace)
                self.on_hung(job)
            if future.done() and not future.cancelled():
                future.exception()  # retrieved, so asyncio does not warn about it
            raise

    async def _shell(self, job: Job) -> Any:
        attempt_log = current_attempt.get()
        on_output = None if attempt_log is None else (
            lambda text: attempt_log.write_text("stdout", text))
        result = await run_shell(job.command or "", on_output)
        if result.exit_code != 0:
            tail = result.output[-2000:]
            raise ShellCommandFailed(f"exit code {result.exit_code}: {tail}")
        return {"exit_code": 0, "output": result.output}
