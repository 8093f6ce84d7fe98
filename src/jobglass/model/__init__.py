"""The domain: jobs, attempts, the state machine and the errors. Imports nothing of ours."""

from jobglass.model.errors import (
    ConfigError,
    IllegalTransition,
    JobFailed,
    JobglassError,
    JobNotFound,
    StoreUnavailable,
    UniqueKeyConflict,
    UnknownParent,
    UnknownTask,
)
from jobglass.model.job import (
    DEFAULT_LEASE,
    Attempt,
    Job,
    JobKind,
    JobSpec,
    Outcome,
    QueueStats,
    WorkerInfo,
)
from jobglass.model.logline import LogLine
from jobglass.model.states import (
    ACTIVE,
    TERMINAL,
    TRANSITIONS,
    JobState,
    check_transition,
    is_legal,
    sources_of,
)

__all__ = [
    "ACTIVE",
    "DEFAULT_LEASE",
    "TERMINAL",
    "TRANSITIONS",
    "Attempt",
    "ConfigError",
    "IllegalTransition",
    "Job",
    "JobFailed",
    "JobKind",
    "JobNotFound",
    "JobSpec",
    "JobState",
    "JobglassError",
    "LogLine",
    "Outcome",
    "QueueStats",
    "StoreUnavailable",
    "UniqueKeyConflict",
    "UnknownParent",
    "UnknownTask",
    "WorkerInfo",
    "check_transition",
    "is_legal",
    "sources_of",
]
