"""kill -9 a real worker mid-job: the reaper takes the job back, with evidence."""

from __future__ import annotations

import os
import signal

import accapp
from procs import WaitFor, Workers, running_children, wait_exit

from jobglass.model import JobState, Outcome
from jobglass.observe.exporter import MetricsExporter
from jobglass.observe.health import Thresholds
from jobglass.store import Store


async def test_killed_worker_job_is_reaped_with_evidence_and_finished_by_another(
        workers: Workers, store: Store, wait_for: WaitFor) -> None:
    spec = accapp.app.spec_for("acc.hang_first")
    job = (await store.enqueue_many([spec]))[0]
    first = workers.start()

    async def running() -> bool:
        # The task's own first line, not just the claim: killed between the two, the
        # worker would never have run the code this test expects to see traced.
        return any(" attempt 1 " in line for line in workers.trace_lines())

    await wait_for(running, 20, message="the first worker to start the job's code")
    dead_id = (await store.get(job.id)).worker_id
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    second = workers.start()

    async def succeeded() -> bool:
        return (await store.get(job.id)).state is JobState.SUCCEEDED

    await wait_for(succeeded, 30, message="the job to be reaped and finished elsewhere")
    attempts = await store.attempts(job.id)
    assert [a.outcome for a in attempts] == [Outcome.LOST, Outcome.SUCCEEDED]
    lost = attempts[0]
    assert lost.evidence is not None
    assert lost.evidence["worker_id"] == dead_id
    assert lost.evidence["pid"] == first.pid
    assert lost.evidence["last_heartbeat_age_s"] >= 2  # older than the lease
    assert attempts[1].worker_id != dead_id
    assert (await store.get(job.id)).result == 2
    states = {w.id: w.state for w in await store.workers()}
    assert states[dead_id or ""] == "dead"
    pids = [line.split()[-1] for line in workers.trace_lines()]
    assert pids == [str(first.pid), str(second.pid)]


async def test_a_killed_worker_is_judged_by_its_own_lease_not_the_reapers(
        workers: Workers, store: Store, wait_for: WaitFor) -> None:
    # The dead worker ran with a 2 s lease; the only one left runs with the default 30 s.
    # Reaped well before 30 s of silence, so the reaper used the dead worker's lease.
    job = (await store.enqueue_many([accapp.app.spec_for("acc.hang_first")]))[0]
    first = workers.start(lease=2)

    async def running() -> bool:
        return any(" attempt 1 " in line for line in workers.trace_lines())

    await wait_for(running, 20, message="the first worker to start the job's code")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    workers.start(heartbeat=1, lease=30)

    async def reaped() -> bool:
        return (await store.get(job.id)).errors == 1

    await wait_for(reaped, 25, message="the job reaped by a 30 s-lease peer within 25 s")
    [lost, *_] = await store.attempts(job.id)
    assert lost.outcome is Outcome.LOST
    assert lost.evidence is not None
    assert lost.evidence["lease_s"] == 2
    assert lost.evidence["last_heartbeat_age_s"] < 30


async def test_a_killed_workers_job_shows_as_stuck_until_it_is_reaped(
        workers: Workers, store: Store, wait_for: WaitFor) -> None:
    """kill -9 with no reaper about: the job still says running, and the stuck-jobs
    gauge (any /metrics process, here one sampling the same store) names it as held by
    a silent worker, as `jobglass health` would; a living worker's job is not stuck."""
    job = (await store.enqueue_many([accapp.app.spec_for("acc.hang_first")]))[0]
    first = workers.start(lease=60)  # the only worker: nothing reaps its job

    async def running() -> bool:
        return any(" attempt 1 " in line for line in workers.trace_lines())

    await wait_for(running, 20, message="the worker to start the job's code")
    exporter = MetricsExporter(thresholds=Thresholds(stale_heartbeat=0.5))

    async def stuck() -> float:
        body, _ = await exporter.render(store, None)
        for line in body.decode().splitlines():
            if line.startswith('jobglass_jobs_stuck{queue="default",reason="worker_silent"}'):
                return float(line.split()[-1])
        return -1.0

    assert await stuck() == 0  # heartbeating every 0.2 s: alive, not stuck
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)

    async def silent() -> bool:
        return await stuck() == 1

    # stale_heartbeat 0.5 s, stretched by the worker's 60 s lease to 1 s of silence
    await wait_for(silent, 15, message="the killed worker's job counted as stuck")
    assert (await store.get(job.id)).state is JobState.RUNNING  # nothing reaped it


async def test_supervisor_replaces_a_killed_child(workers: Workers, wait_for: WaitFor) -> None:
    supervisor = workers.start("--processes", "2")
    await wait_for(lambda: len(running_children(supervisor.pid)) == 2, 20,
                   message="two worker processes")
    before = running_children(supervisor.pid)
    workers.children.update(before)
    os.kill(before[0], signal.SIGKILL)

    def replaced() -> bool:
        now = running_children(supervisor.pid)
        workers.children.update(now)
        return len(now) == 2 and before[0] not in now

    await wait_for(replaced, 20, message="the killed child to be replaced")
    supervisor.send_signal(signal.SIGTERM)
    assert await wait_exit(supervisor) == 0
