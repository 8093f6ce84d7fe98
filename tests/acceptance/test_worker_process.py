"""What `jobglass worker` sets up for its own process."""

from __future__ import annotations

import gc

import accapp
import pytest
from procs import WaitFor, Workers

from jobglass.cli.collector import GC_ENV, YOUNG_OBJECTS
from jobglass.model import JobState
from jobglass.store import Store


async def _collector_seen_by_a_job(workers: Workers, store: Store, wait_for: WaitFor
                                   ) -> tuple[int, int]:
    job = (await store.enqueue_many([accapp.app.spec_for("acc.collector")]))[0]
    workers.start()

    async def done() -> bool:
        return (await store.get(job.id)).state is JobState.SUCCEEDED

    await wait_for(done, 30, message="the job to succeed")
    young, frozen = (await store.get(job.id)).result  # type: ignore[misc]
    return young, frozen


async def test_the_worker_process_tunes_the_cyclic_collector(workers: Workers, store: Store,
                                                             wait_for: WaitFor) -> None:
    young, frozen = await _collector_seen_by_a_job(workers, store, wait_for)
    assert young == YOUNG_OBJECTS
    assert frozen > 10_000  # the imports' objects, out of the collector's sight


@pytest.mark.parametrize(("setting", "young", "frozen"), [
    ("5000", 5000, True),
    ("0", gc.get_threshold()[0], False),  # CPython's own setting (this process has it)
])
async def test_the_collector_setting_is_taken_from_the_environment(
        workers: Workers, store: Store, wait_for: WaitFor, monkeypatch: pytest.MonkeyPatch,
        setting: str, young: int, frozen: bool) -> None:
    monkeypatch.setenv(GC_ENV, setting)
    seen_young, seen_frozen = await _collector_seen_by_a_job(workers, store, wait_for)
    assert seen_young == young
    assert (seen_frozen > 0) is frozen
