"""Every error the API returns is `application/problem+json` (RFC 9457).

    {"type": "urn:jobglass:problem:not-found", "title": "Not found", "status": 404,
     "detail": "no job with id 7", "instance": "/api/jobs/7", "request_id": "...",
     "errors": [{"in": "body", "field": "priority", "message": "..."}]}   # field problems only

Handlers raise `Problem`; the domain's errors are mapped here, once:

| error | status |
|---|---|
| malformed JSON | 400 |
| no or unknown token | 401 |
| scope too small, shell not allowed, cross-origin | 403 |
| `JobNotFound`, unknown route | 404 |
| wrong method | 405 |
| `IllegalTransition`, `UniqueKeyConflict` | 409 |
| body over the limit | 413 |
| body not JSON | 415 |
| wrong types, values out of range, `UnknownParent` | 422 |
| `StoreUnavailable` | 503 |
| anything unexpected (a bug) | 500 |
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from jobglass.model import (
    IllegalTransition,
    JobNotFound,
    StoreUnavailable,
    UniqueKeyConflict,
    UnknownParent,
)

PROBLEM_TYPE = "application/problem+json"
REQUEST_ID_KEY = "jobglass.request_id"  # where the middleware keeps the id in the ASGI scope

FieldError = dict[str, str]

_SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
          405: "method-not-allowed", 409: "conflict", 413: "too-large",
          415: "unsupported-media-type", 422: "invalid", 500: "internal",
          503: "unavailable"}


def problem_type(status: int) -> str:
    return f"urn:jobglass:problem:{_SLUGS.get(status, str(status))}"


class Problem(Exception):
    def __init__(self, status: int, detail: str, *, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None, title: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.title = title or HTTPStatus(status).phrase


class ProblemResponse(Response):
    media_type = PROBLEM_TYPE


def render(problem: Problem, *, path: str, request_id: str | None) -> Response:
    body: dict[str, Any] = {"type": problem_type(problem.status), "title": problem.title,
                            "status": problem.status, "detail": problem.detail,
                            "instance": path}
    if request_id:
        body["request_id"] = request_id
    if problem.errors:
        body["errors"] = problem.errors
    return ProblemResponse(json.dumps(body, ensure_ascii=False).encode("utf-8"),
                           status_code=problem.status, headers=problem.headers)


def _render(request: Request, problem: Problem) -> Response:
    return render(problem, path=request.url.path,
                  request_id=request.scope.get(REQUEST_ID_KEY))


def to_problem(exc: Exception) -> Problem:
    """The one mapping from an exception to what the client is told."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            return Problem(404, "no such resource", headers=headers)
        if exc.status_code == 405:
            allowed = headers.get("Allow", "")
            return Problem(405, f"method not allowed here (allowed: {allowed})",
                           headers=headers)
        return Problem(exc.status_code, str(exc.detail), headers=headers)
    if isinstance(exc, JobNotFound):
        return Problem(404, str(exc))
    if isinstance(exc, IllegalTransition | UniqueKeyConflict):
        return Problem(409, str(exc))
    if isinstance(exc, UnknownParent):
        return Problem(422, str(exc), errors=[{"in": "body", "field": "depends_on",
                                               "message": str(exc)}])
    if isinstance(exc, StoreUnavailable):
        return Problem(503, f"the store is unavailable: {exc}", headers={"Retry-After": "5"})
    return Problem(500, "an unexpected error; it has been logged with this request's id")


async def handle(request: Request, exc: Exception) -> Response:
    return _render(request, to_problem(exc))


HANDLED: tuple[type[Exception], ...] = (Problem, HTTPException, JobNotFound, IllegalTransition,
                                        UniqueKeyConflict, UnknownParent, StoreUnavailable)


def exception_handlers() -> dict[Any, Any]:
    return {kind: handle for kind in HANDLED}
