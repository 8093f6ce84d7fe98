"""Request ids: kept when sane, made when absent, echoed, logged, stored on jobs.

An incoming `X-Request-ID` of 1-128 characters from `[A-Za-z0-9._:-]` is kept;
anything else is replaced by a fresh id (and the replaced value is never logged
raw). For the whole request the id is

- bound into structlog's context vars, so every log line carries `request_id`;
- set as the ambient request id (`jobglass.app.ambient`), so every job the request
  enqueues records it;
- echoed on the response as `X-Request-ID`, errors included.

This middleware is also the last line of defence: an exception nothing handled
becomes a logged 500 problem carrying the request id, never a bare traceback.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobglass.app.ambient import request_scope
from jobglass.observe.logs import get_logger
from jobglass.web.problems import REQUEST_ID_KEY, Problem, render

HEADER = "X-Request-ID"
MAX_LENGTH = 128
_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")  # MAX_LENGTH

log = get_logger("jobglass.web")


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane(value: str | None) -> bool:
    return value is not None and _SANE.match(value) is not None


def choose(incoming: str | None) -> str:
    return incoming if incoming is not None and sane(incoming) else new_request_id()


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(HEADER)
        rid = choose(incoming)
        scope[REQUEST_ID_KEY] = rid
        status = 500
        started = False
        began = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=rid), request_scope(rid):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled error in request", method=scope["method"],
                              path=scope["path"])
                if started:
                    raise
                response = render(Problem(500, "an unexpected error; it has been logged with"
                                          " this request's id"),
                                  path=scope["path"], request_id=rid)
                await response(scope, receive, send_with_id)
            finally:
                log.info("request", method=scope["method"], path=scope["path"], status=status,
                         duration_ms=round((time.perf_counter() - began) * 1000, 2),
                         replaced_request_id=incoming is not None and incoming != rid)
