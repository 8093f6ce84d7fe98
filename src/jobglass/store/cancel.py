"""Cancellation across store calls.

A cancel that lands inside a driver call can come back as a store error instead of
`CancelledError` (psycopg closes a connection whose query would not stop, and the
transaction's rollback then fails on it). A background loop that logs store errors
and carries on would swallow its own shutdown; the task still counts the request.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Raise `CancelledError` if this task was asked to stop, even when the request
    surfaced as another exception that the caller handled."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
