"""jobglass: durable background jobs for Python that explain themselves.

    app = jobglass.App("sqlite:///jobglass.db")

    @app.task(queue="emails", retries=5, timeout=30)
    def send_email(ctx: jobglass.Context, to: str) -> None: ...

    send_email.enqueue(to="ada@example.com")
"""

from jobglass.app import App, Context, DontRetry, EnqueueOptions, JobHandle, Retry, Task
from jobglass.model import (
    Attempt,
    IllegalTransition,
    Job,
    JobFailed,
    JobglassError,
    JobNotFound,
    JobSpec,
    JobState,
    Outcome,
    StoreUnavailable,
    UniqueKeyConflict,
    UnknownParent,
    UnknownTask,
)
from jobglass.observe import FanOut, Observer, Recorder
from jobglass.worker import Worker, WorkerSettings

__version__ = "0.1.0"

__all__ = [
    "App",
    "Attempt",
    "Context",
    "DontRetry",
    "EnqueueOptions",
    "FanOut",
    "IllegalTransition",
    "Job",
    "JobFailed",
    "JobHandle",
    "JobNotFound",
    "JobSpec",
    "JobState",
    "JobglassError",
    "Observer",
    "Outcome",
    "Recorder",
    "Retry",
    "StoreUnavailable",
    "Task",
    "UniqueKeyConflict",
    "UnknownParent",
    "UnknownTask",
    "Worker",
    "WorkerSettings",
    "__version__",
]
