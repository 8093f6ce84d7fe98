"""The application layer: `App`, tasks, enqueue, the task context."""

from jobglass.app.app import SHELL_TASK, App
from jobglass.app.context import Context
from jobglass.app.handle import JobHandle
from jobglass.app.options import EnqueueOptions, TaskOptions
from jobglass.app.signals import DontRetry, Retry
from jobglass.app.task import Task

__all__ = [
    "SHELL_TASK",
    "App",
    "Context",
    "DontRetry",
    "EnqueueOptions",
    "JobHandle",
    "Retry",
    "Task",
    "TaskOptions",
]
