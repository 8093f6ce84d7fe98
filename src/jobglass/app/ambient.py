"""Context that travels with the code that enqueues, without being passed by hand.

An HTTP request's id is set here by the web layer; every job enqueued while it is
set records it, so `jobglass jobs --request-id X` finds what a request created.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("jobglass_request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


@contextmanager
def request_scope(request_id: str | None) -> Iterator[None]:
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)
