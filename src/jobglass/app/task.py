"""`@app.task`: a function plus its settings, enqueueable by call."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from jobglass.app.context import Context
from jobglass.app.options import NO_OPTIONS, EnqueueOptions, TaskOptions, build_spec
from jobglass.model import JobSpec

if TYPE_CHECKING:
    from jobglass.app.app import App
    from jobglass.app.handle import JobHandle

P = ParamSpec("P")
R = TypeVar("R")


def wants_context(fn: Callable[..., Any]) -> bool:
    """A task gets `ctx` when its first parameter is named `ctx` or typed `Context`."""
    params = list(inspect.signature(fn).parameters.values())
    if not params:
        return False
    first = params[0]
    return first.name == "ctx" or first.annotation in (Context, "Context")


class Task(Generic[P, R]):
    def __init__(self, app: App, fn: Callable[..., Any], name: str, options: TaskOptions,
                 enqueue_options: EnqueueOptions | None = None) -> None:
        self.app = app
        self.fn = fn
        self.name = name
        self.options = options
        self.is_async = inspect.iscoroutinefunction(fn)
        self.takes_context = wants_context(fn)
        self._enqueue_options = enqueue_options or NO_OPTIONS

    def __repr__(self) -> str:
        return f"<Task {self.name} queue={self.options.queue}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Calling a task runs the function directly, in the caller (handy in tests)."""
        return self.fn(*args, **kwargs)

    def with_options(self, *, queue: str | None = None, priority: int | None = None,
                     delay: float | None = None, run_at: float | None = None,
                     depends_on: list[int] | tuple[int, ...] = (),
                     unique_key: str | None = None, retries: int | None = None,
                     timeout: float | None = None, request_id: str | None = None
                     ) -> Task[P, R]:
        """A copy whose next enqueue uses these options."""
        opts = replace(self._enqueue_options, queue=queue, priority=priority, delay=delay,
                       run_at=run_at, depends_on=tuple(depends_on), unique_key=unique_key,
                       retries=retries, timeout=timeout, request_id=request_id)
        return Task(self.app, self.fn, self.name, self.options, opts)

    def _spec(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> JobSpec:
        args_ = args[1:] if self.takes_context and args and isinstance(args[0], Context) else args
        return build_spec(self.name, args_, kwargs, self.options, self._enqueue_options)

    async def aenqueue(self, *args: Any, **kwargs: Any) -> JobHandle:
        return (await self.app.aenqueue_specs([self._spec(args, kwargs)]))[0]

    def enqueue(self, *args: Any, **kwargs: Any) -> JobHandle:
        return self.app.enqueue_specs([self._spec(args, kwargs)])[0]
