"""Rows to jobs: the by-position decoder (both stores read jobs with it) gives every
field its own value, decoded."""

from __future__ import annotations

import dataclasses
import sqlite3

from jobglass.model import Job, JobKind, JobSpec, JobState
from jobglass.store.records import JOB_COLUMNS, job_from_values, new_job


def test_job_columns_are_the_job_fields_in_order_but_parents() -> None:
    names = [f.name for f in dataclasses.fields(Job)]
    assert names[-1] == "parents"
    assert list(JOB_COLUMNS) == names[:-1]


def test_decoding_by_position_puts_each_column_in_its_field() -> None:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE TABLE jobs ({', '.join(JOB_COLUMNS)})")
    stored = {name: None for name in JOB_COLUMNS} | {
        "id": 7, "task": "mail.send", "queue": "mail", "kind": "shell", "state": "running",
        "args": '[1, "two", {"three": 3}]', "kwargs": '{"to": "a@example.com"}',
        "priority": 5, "run_at": 10.5, "created_at": 9.0, "attempt": 2, "errors": 1,
        "max_retries": 3, "backoff_base": 1.0, "backoff_cap": 300.0, "timeout": 30.0,
        "command": "echo hi", "started_at": 11.0, "lease": "abc", "worker_id": "w-1",
        "result": '{"ok": true}', "cancel_requested": 1, "progress_done": 4.0,
        "progress_total": 10.0, "progress_message": "half", "traceparent": "00-1-2-01",
        "request_id": "req-9"}
    db.execute(f"INSERT INTO jobs VALUES ({', '.join('?' * len(JOB_COLUMNS))})",
               [stored[name] for name in JOB_COLUMNS])
    values = db.execute("SELECT * FROM jobs").fetchone()
    by_position = job_from_values(values, [3, 4])
    decoded = {"kind": JobKind.SHELL, "state": JobState.RUNNING,
               "args": [1, "two", {"three": 3}], "kwargs": {"to": "a@example.com"},
               "result": {"ok": True}, "cancel_requested": True}
    assert by_position == Job(**(stored | decoded), parents=[3, 4])  # by name
    assert by_position.kind is JobKind.SHELL
    assert by_position.state is JobState.RUNNING
    assert by_position.args == [1, "two", {"three": 3}]
    assert by_position.result == {"ok": True}
    assert by_position.cancel_requested is True
    assert by_position.parents == [3, 4]


def test_a_new_job_built_by_position_has_each_spec_value_in_its_field() -> None:
    spec = JobSpec(task="mail.send", args=[1], kwargs={"to": "a"}, queue="mail", priority=5,
                   run_at=10.5, max_retries=7, backoff_base=2.0, backoff_cap=60.0,
                   timeout=30.0, unique_key="k", depends_on=[9, 3, 9], kind=JobKind.SHELL,
                   command="echo hi", traceparent="00-1-2-01", tracestate="v=1",
                   request_id="req-9")
    for state, finished_at in ((JobState.BLOCKED, None), (JobState.CANCELLED, 9.0)):
        assert new_job(7, spec, state, 10.5, 9.0, "why") == Job(  # by name
            id=7, task="mail.send", queue="mail", kind=JobKind.SHELL, state=state, args=[1],
            kwargs={"to": "a"}, priority=5, run_at=10.5, created_at=9.0, attempt=0, errors=0,
            max_retries=7, backoff_base=2.0, backoff_cap=60.0, timeout=30.0,
            command="echo hi", unique_key="k", finished_at=finished_at, reason="why",
            traceparent="00-1-2-01", tracestate="v=1", request_id="req-9", parents=[3, 9])
