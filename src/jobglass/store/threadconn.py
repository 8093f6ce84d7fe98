"""One database connection per calling thread, for the sync API's fast paths.

Each thread's connection sits in a holder that only the thread-local refers to, so
it closes the moment its thread ends (a connection object itself may sit in a
reference cycle and wait for the garbage collector): a server that starts a thread
per request must not pile up open connections. `close_all` closes the rest.

At most `limit` threads hold one at a time; `reserve` says no to the others, which
then take the slower shared path (a server with hundreds of threads must not open
hundreds of database connections).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closable)


class _Held(Generic[C]):
    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: C) -> None:
        self.conn = conn

    def __del__(self) -> None:
        self.conn.close()


class ThreadConnections(Generic[C]):
    def __init__(self, connect: Callable[[], C], limit: int) -> None:
        self._connect = connect
        self.limit = limit
        self._local = threading.local()
        self._held: weakref.WeakSet[_Held[C]] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closed = False

    def reserve(self) -> bool:
        """Whether this thread holds a connection, opening one if it may."""
        if getattr(self._local, "held", None) is not None:
            return True
        with self._lock:
            if self._closed or len(self._held) >= self.limit:
                return False
            held = _Held(self._connect())  # under the lock: first use per thread only
            self._held.add(held)
        self._local.held = held
        return True

    def get(self) -> C:
        """This thread's connection; `reserve` must have said yes."""
        held: _Held[C] | None = getattr(self._local, "held", None)
        if held is None:
            raise RuntimeError("no connection reserved for this thread")
        return held.conn

    def discard(self) -> None:
        """Drop this thread's connection (it broke); the next `get` opens another."""
        held: _Held[C] | None = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None:
            self._held.discard(held)
            held.conn.close()

    def open_count(self) -> int:
        return len(self._held)

    def close_all(self) -> None:
        with self._lock:
            self._closed = True
            held = list(self._held)
        for one in held:
            one.conn.close()
