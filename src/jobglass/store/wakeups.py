"""In-process wake-ups: an enqueue wakes idle workers of the same database at once.

Workers in other processes learn of new work from their backend's own signal
(SQLite's data_version poll, PostgreSQL's LISTEN/NOTIFY).
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict

_lock = threading.Lock()
_waiters: defaultdict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = defaultdict(set)


def subscribe(key: str, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
    with _lock:
        _waiters[key].add((loop, event))


def unsubscribe(key: str, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
    with _lock:
        _waiters[key].discard((loop, event))


def wake(key: str) -> None:
    """Callable from any thread."""
    with _lock:
        targets = list(_waiters.get(key, ()))
    for loop, event in targets:
        if not loop.is_closed():
            loop.call_soon_threadsafe(event.set)
