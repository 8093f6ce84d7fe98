"""The exception tree.

    JobglassError
    ├── ConfigError          bad URL, bad option, missing extra
    ├── IllegalTransition    a state change the table in `model.states` forbids
    ├── JobNotFound          no job with that id
    ├── UnknownParent        depends_on names a job that does not exist
    ├── UniqueKeyConflict    a retry would take a unique key another job holds
    ├── UnknownTask          enqueue by a name no task is registered under
    ├── JobFailed            handle.result() on a job that ended failed/cancelled
    └── StoreUnavailable     the database cannot be reached
"""

from __future__ import annotations


class JobglassError(Exception):
    """Base of every error jobglass raises on purpose."""


class ConfigError(JobglassError):
    pass


class IllegalTransition(JobglassError):
    def __init__(self, source: str, target: str, job_id: int | None = None) -> None:
        where = f"job {job_id}: " if job_id is not None else ""
        super().__init__(f"{where}cannot go from {source} to {target}")
        self.source = source
        self.target = target
        self.job_id = job_id


class JobNotFound(JobglassError):
    def __init__(self, job_id: int) -> None:
        super().__init__(f"no job with id {job_id}")
        self.job_id = job_id


class UnknownParent(JobglassError):
    def __init__(self, parent_ids: list[int]) -> None:
        ids = ", ".join(str(i) for i in parent_ids)
        super().__init__(f"depends_on names jobs that do not exist: {ids}")
        self.parent_ids = parent_ids


class UniqueKeyConflict(JobglassError):
    def __init__(self, key: str, holder: int) -> None:
        super().__init__(f"unique key {key!r} is held by job {holder}")
        self.key = key
        self.holder = holder


class UnknownTask(JobglassError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no task named {name!r} is registered")
        self.name = name


class JobFailed(JobglassError):
    def __init__(self, job_id: int, state: str, error: str | None) -> None:
        super().__init__(f"job {job_id} ended {state}: {error or 'no error recorded'}")
        self.job_id = job_id
        self.state = state
        self.error = error


class StoreUnavailable(JobglassError):
    pass
