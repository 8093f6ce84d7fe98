"""The public API is a promise: this list changes on purpose, never by accident."""

from __future__ import annotations

import jobglass

EXPECTED = {
    "App", "Attempt", "Context", "DontRetry", "EnqueueOptions", "FanOut", "IllegalTransition",
    "Job", "JobFailed", "JobHandle", "JobNotFound", "JobSpec", "JobState", "JobglassError",
    "Observer", "Outcome", "Recorder", "Retry", "StoreUnavailable", "Task",
    "UniqueKeyConflict", "UnknownParent", "UnknownTask", "Worker", "WorkerSettings",
    "__version__",
}


def test_exported_names_are_pinned() -> None:
    assert set(jobglass.__all__) == EXPECTED


def test_every_exported_name_exists() -> None:
    for name in jobglass.__all__:
        assert getattr(jobglass, name) is not None, name
