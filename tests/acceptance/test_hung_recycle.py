"""A sync task that ignores its timeout loses its thread, and under a supervisor the
worker process that leaked it is replaced, so hung tasks never pile up."""

from __future__ import annotations

import signal

import hungapp
from procs import WaitFor, Workers, running_children, wait_exit

from jobglass.model import JobState, Outcome
from jobglass.store import Store


async def test_hung_sync_task_gets_its_worker_process_replaced(
        workers: Workers, store: Store, wait_for: WaitFor) -> None:
    job = (await store.enqueue_many([hungapp.app.spec_for("hung.sleep")]))[0]
    supervisor = workers.start("--processes", "2", "--app", "hungapp:app", "--grace", "0.2",
                               "--shutdown-timeout", "1")
    await wait_for(lambda: len(running_children(supervisor.pid)) == 2, 20,
                   message="two worker processes")
    before = set(running_children(supervisor.pid))
    workers.children.update(before)

    async def timed_out() -> bool:
        return (await store.get(job.id)).state is JobState.FAILED

    await wait_for(timed_out, 20, message="the hung job to time out")
    assert [a.outcome for a in await store.attempts(job.id)] == [Outcome.TIMEOUT]
    hung_pid = int(workers.trace_lines()[0])
    assert hung_pid in before

    def replaced() -> bool:
        now = set(running_children(supervisor.pid))
        workers.children.update(now)
        return len(now) == 2 and hung_pid not in now

    await wait_for(replaced, 20, message="the process with the hung thread to be replaced")
    supervisor.send_signal(signal.SIGTERM)
    assert await wait_exit(supervisor) == 0
