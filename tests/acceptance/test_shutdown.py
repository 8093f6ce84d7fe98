"""SIGTERM: finish what fits in the shutdown timeout, put the rest back."""

from __future__ import annotations

import signal
import subprocess
import time

import accapp
from procs import WaitFor, Workers, wait_exit

from jobglass.model import JobState, Outcome
from jobglass.store import Store


async def _start_sleeper(workers: Workers, store: Store, wait_for: WaitFor, seconds: float,
                         *args: str) -> tuple[int, subprocess.Popen[bytes]]:
    job = (await store.enqueue_many([accapp.app.spec_for("acc.sleep", [seconds])]))[0]
    proc = workers.start(*args)
    await wait_for(lambda: f"{job.id} start" in workers.trace_lines(), 20,
                   message="the job to start")
    return job.id, proc


async def test_sigterm_lets_a_short_job_finish(workers: Workers, store: Store,
                                               wait_for: WaitFor) -> None:
    job_id, proc = await _start_sleeper(workers, store, wait_for, 0.5,
                                        "--shutdown-timeout", "30")
    proc.send_signal(signal.SIGTERM)
    assert await wait_exit(proc) == 0
    job = await store.get(job_id)
    assert job.state is JobState.SUCCEEDED
    assert f"{job_id} end" in workers.trace_lines()
    assert {w.state for w in await store.workers()} == {"stopped"}


async def test_sigterm_requeues_a_long_job_as_interrupted(workers: Workers, store: Store,
                                                         wait_for: WaitFor) -> None:
    job_id, proc = await _start_sleeper(workers, store, wait_for, 3600,
                                        "--shutdown-timeout", "0.5")
    proc.send_signal(signal.SIGTERM)
    assert await wait_exit(proc) == 0
    job = await store.get(job_id)
    assert job.state is JobState.QUEUED
    assert job.errors == 0  # an interruption spends no retry
    assert [a.outcome for a in await store.attempts(job_id)] == [Outcome.INTERRUPTED]


async def test_second_signal_requeues_at_once(workers: Workers, store: Store,
                                             wait_for: WaitFor) -> None:
    job_id, proc = await _start_sleeper(workers, store, wait_for, 3600,
                                        "--shutdown-timeout", "600")
    proc.send_signal(signal.SIGTERM)
    await wait_for(lambda: "waiting up to" in workers.output(proc), 10,
                   message="the worker to begin its drain")
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    assert await wait_exit(proc, 60) == 0
    assert time.monotonic() - started < 60  # far below the 600 s drain it skipped
    assert (await store.get(job_id)).state is JobState.QUEUED
