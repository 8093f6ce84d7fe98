"""Waiting out a failing store: doubling delays that a `wake()` cuts short."""

from __future__ import annotations

import asyncio
import time

from jobglass.worker.outage_backoff import OutageBackoff


async def test_a_wake_ends_the_wait_in_progress() -> None:
    backoff = OutageBackoff(first=30.0, cap=60.0)
    waiting = asyncio.create_task(backoff.wait())
    await asyncio.sleep(0)  # let it start waiting
    backoff.wake()
    await asyncio.wait_for(waiting, 5)  # not 30 s
    assert backoff.delay == 60.0


async def test_delays_double_up_to_the_cap_and_reset() -> None:
    backoff = OutageBackoff(first=0.01, cap=0.03)
    delays = []
    for _ in range(3):
        delays.append(backoff.delay)
        await backoff.wait()
    assert delays == [0.01, 0.02, 0.03]
    backoff.reset()
    assert backoff.delay == 0.01


async def test_a_wake_before_a_wait_does_not_skip_it() -> None:
    backoff = OutageBackoff(first=0.2)
    backoff.wake()  # the store answered while nothing was waiting
    began = time.monotonic()
    await backoff.wait()
    assert time.monotonic() - began >= 0.19
