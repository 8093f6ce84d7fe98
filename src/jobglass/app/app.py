"""The user-facing `App`: a task registry bound to one database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar, overload

from jobglass.app.handle import JobHandle
from jobglass.app.options import NO_OPTIONS, EnqueueOptions, TaskOptions, build_spec
from jobglass.app.portal import Portal
from jobglass.app.task import Task
from jobglass.model import JobSpec, UnknownTask
from jobglass.model.job import Job, JobKind
from jobglass.observe.events import JobEnqueued
from jobglass.observe.observer import FanOut
from jobglass.store import (
    DirectEnqueue,
    Store,
    database_url,
    direct_enqueue_from_url,
    store_from_url,
)

F = TypeVar("F", bound=Callable[..., Any])

SHELL_TASK = "shell"


class App:
    """`app = jobglass.App("sqlite:///jobglass.db")`; then `@app.task` your functions."""

    def __init__(self, database_url_: str | None = None, *, name: str = "jobglass") -> None:
        self.database_url = database_url(database_url_)
        self.name = name
        self.tasks: dict[str, Task[Any, Any]] = {}
        self.portal = Portal()
        self.observer = FanOut()  # add your own: app.observer.add(MyObserver())
        # Set by telemetry when tracing is on: a context manager around each enqueue
        # that opens the producer span and stamps its traceparent on the specs.
        self.enqueue_tracer: Callable[[Sequence[JobSpec]], AbstractContextManager[Any]] | None
        self.enqueue_tracer = None
        self._stores: dict[asyncio.AbstractEventLoop, Store] = {}
        self._opening: dict[asyncio.AbstractEventLoop, asyncio.Task[Store]] = {}
        self._stores_lock = threading.Lock()
        # The sync API's enqueue path on the caller's thread (SQLite), set up after the
        # first sync enqueue went through the portal and so opened and migrated the store.
        self._direct: DirectEnqueue | None = None
        self._direct_checked = False

    # -- tasks -----------------------------------------------------------------
    @overload
    def task(self, fn: F, /) -> Task[Any, Any]: ...

    @overload
    def task(self, fn: None = None, /, *, name: str | None = None, queue: str = "default",
             retries: int = 3, backoff: float = 1.0, backoff_cap: float = 300.0,
             timeout: float | None = None, priority: int = 0,
             retry_on: tuple[type[BaseException], ...] = (),
             dont_retry_on: tuple[type[BaseException], ...] = ()
             ) -> Callable[[F], Task[Any, Any]]: ...

    def task(self, fn: F | None = None, /, *, name: str | None = None, queue: str = "default",
             retries: int = 3, backoff: float = 1.0, backoff_cap: float = 300.0,
             timeout: float | None = None, priority: int = 0,
             retry_on: tuple[type[BaseException], ...] = (),
             dont_retry_on: tuple[type[BaseException], ...] = ()
             ) -> Task[Any, Any] | Callable[[F], Task[Any, Any]]:
        options = TaskOptions(queue=queue, retries=retries, backoff=backoff,
                              backoff_cap=backoff_cap, timeout=timeout, priority=priority,
                              retry_on=tuple(retry_on), dont_retry_on=tuple(dont_retry_on))

        def register(func: F) -> Task[Any, Any]:
            task_name = name or f"{func.__module__}.{func.__qualname__}"
            if task_name == SHELL_TASK:
                raise ValueError(f"{SHELL_TASK!r} is reserved for shell jobs")
            if task_name in self.tasks:
                raise ValueError(f"a task named {task_name!r} is already registered")
            task: Task[Any, Any] = Task(self, func, task_name, options)
            self.tasks[task_name] = task
            return task

        return register(fn) if fn is not None else register

    # -- the store, one per event loop -------------------------------------------
    async def astore(self) -> Store:
        """The store bound to the running event loop, opened on first use.

        Concurrent first calls on one loop share a single open (a second open of a
        fresh SQLite file would race the first one's WAL switch)."""
        loop = asyncio.get_running_loop()
        with self._stores_lock:
            store = self._stores.get(loop)
            opening = self._opening.get(loop)
            if store is None and opening is None:
                opening = self._opening[loop] = loop.create_task(self._open_store())
        if store is not None:
            return store
        assert opening is not None
        return await asyncio.shield(opening)

    async def _open_store(self) -> Store:
        loop = asyncio.get_running_loop()
        store = store_from_url(self.database_url)
        try:
            await store.open()
        finally:
            with self._stores_lock:
                self._opening.pop(loop, None)
        with self._stores_lock:
            self._stores[loop] = store
        return store

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        with self._stores_lock:
            store = self._stores.pop(loop, None)
        if store is not None:
            await store.close()

    def close(self) -> None:
        with self._stores_lock:
            direct, self._direct, self._direct_checked = self._direct, None, False
        if direct is not None:
            direct.close()
        if self.portal.loop is not None:
            self.portal.call(self.aclose())

    # -- enqueue -----------------------------------------------------------------
    async def aenqueue_specs(self, specs: Sequence[JobSpec]) -> list[JobHandle]:
        store = await self.astore()
        if self.enqueue_tracer is None:
            jobs = await store.enqueue_many(list(specs))
        else:
            with self.enqueue_tracer(specs) as span:
                jobs = await store.enqueue_many(list(specs))
                _name_message(span, jobs)
        return self._enqueued(jobs)

    def enqueue_specs(self, specs: Sequence[JobSpec]) -> list[JobHandle]:
        direct = self._direct
        if direct is None or not direct.takes(specs):
            handles = self.portal.call(self.aenqueue_specs(specs))
            with self._stores_lock:
                if not self._direct_checked:
                    self._direct_checked = True
                    self._direct = direct_enqueue_from_url(self.database_url)
            return handles
        if self.enqueue_tracer is None:
            jobs = direct.enqueue_many(list(specs))
        else:
            with self.enqueue_tracer(specs) as span:
                jobs = direct.enqueue_many(list(specs))
                _name_message(span, jobs)
        return self._enqueued(jobs)

    def _enqueued(self, jobs: list[Job]) -> list[JobHandle]:
        for job in jobs:
            self.observer.handle(JobEnqueued(job))
        return [JobHandle(self, job) for job in jobs]

    def spec_for(self, task: str, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None,
                 options: EnqueueOptions | None = None) -> JobSpec:
        """A spec by task name. Registered tasks lend their settings; producers that do
        not import the code may name any task (the worker must know it)."""
        registered = self.tasks.get(task)
        task_options = registered.options if registered else TaskOptions()
        return build_spec(task, tuple(args), dict(kwargs or {}), task_options,
                          options or NO_OPTIONS)

    async def aenqueue(self, task: str, *args: Any, options: EnqueueOptions | None = None,
                       **kwargs: Any) -> JobHandle:
        return (await self.aenqueue_specs([self.spec_for(task, args, kwargs, options)]))[0]

    def enqueue(self, task: str, *args: Any, options: EnqueueOptions | None = None,
                **kwargs: Any) -> JobHandle:
        return self.enqueue_specs([self.spec_for(task, args, kwargs, options)])[0]

    def shell_spec(self, command: str, options: EnqueueOptions | None = None,
                   timeout: float | None = None, retries: int = 0) -> JobSpec:
        if not command.strip():
            raise ValueError("the shell command is empty")
        task_options = TaskOptions(queue="default", retries=retries, timeout=timeout)
        return build_spec(SHELL_TASK, (), {}, task_options, options or NO_OPTIONS,
                          kind=JobKind.SHELL, command=command)

    async def asubmit(self, command: str, *, options: EnqueueOptions | None = None,
                      timeout: float | None = None, retries: int = 0) -> JobHandle:
        """A shell job; only workers started with --allow-shell run it."""
        spec = self.shell_spec(command, options, timeout, retries)
        return (await self.aenqueue_specs([spec]))[0]

    def submit(self, command: str, *, options: EnqueueOptions | None = None,
               timeout: float | None = None, retries: int = 0) -> JobHandle:
        return self.enqueue_specs([self.shell_spec(command, options, timeout, retries)])[0]

    def get_task(self, name: str) -> Task[Any, Any]:
        try:
            return self.tasks[name]
        except KeyError:
            raise UnknownTask(name) from None


def _name_message(span: Any, jobs: list[Job]) -> None:
    if len(jobs) == 1:
        span.set_attribute("messaging.message.id", str(jobs[0].id))
