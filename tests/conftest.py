"""Helpers shared by every test tier.

Tests synchronise on conditions, never on sleeps: `wait_for` polls a predicate
until it holds or a deadline passes, and fails loudly at the deadline.

The test folders are not packages, so take the helper as a fixture::

    async def test_something(wait_for: WaitFor) -> None:
        await wait_for(lambda: done, timeout=5)

(`WaitFor` spelled out: `Callable[..., Awaitable[None]]`.)
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

import pytest

Predicate = Callable[[], bool | Awaitable[bool]]
WaitFor = Callable[..., Awaitable[None]]


async def wait_for(predicate: Predicate, timeout: float = 5.0, *, interval: float = 0.01,
                   message: str | None = None) -> None:
    """Poll `predicate` (sync or async) until it returns true; raise
    `AssertionError` if it still does not after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = predicate()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"condition not met within {timeout}s")
        await asyncio.sleep(interval)  # only yields between polls; the deadline decides


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> WaitFor:
    return wait_for
