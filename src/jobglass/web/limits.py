"""Request bodies over the limit (default 1 MiB) are refused with 413 before a byte
of them is parsed, whether the client declared the length or streamed it."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobglass.web.problems import REQUEST_ID_KEY, Problem, render

DEFAULT_MAX_BODY = 1 << 20


def too_large(limit: int) -> Problem:
    return Problem(413, f"the request body is larger than the {limit}-byte limit")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        problem: Problem | None = None
        if declared is not None:
            if not declared.isdigit():
                problem = Problem(400, "Content-Length is not a number")
            elif int(declared) > self.max_body:
                problem = too_large(self.max_body)
        if problem is not None:
            response = render(problem, path=scope["path"], request_id=scope.get(REQUEST_ID_KEY))
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise too_large(self.max_body)
            return message

        await self.app(scope, limited, send)
