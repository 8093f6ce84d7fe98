"""`/api/jobs/{id}/logs`: an attempt's stored log by cursor, and a live tail over
Server-Sent Events that ends when the job does."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from jobglass.model import LogLine
from jobglass.model.access import Scope
from jobglass.model.states import TERMINAL
from jobglass.store import Store
from jobglass.web import spec
from jobglass.web.auth import needs
from jobglass.web.inputs import MAX_ID, path_id, query_fields, query_int, query_number
from jobglass.web.settings import web_state

POLL = 0.25  # seconds between reads while tailing a running job


def line_json(line: LogLine) -> dict[str, Any]:
    return {"id": line.id, "attempt": line.attempt, "ts": line.ts, "level": line.level,
            "stream": line.stream, "message": line.message, "fields": line.fields}


@needs(Scope.READ)
async def get_logs(request: Request) -> Response:
    job_id = path_id(request)
    f = query_fields(request.query_params)
    attempt = query_int(f, "attempt", 1, 1_000_000)
    cursor = query_int(f, "cursor", 0, MAX_ID)
    limit = query_int(f, "limit", 1, 5000)
    f.check()
    store = await web_state(request).store()
    job = await store.get(job_id)  # 404 for an unknown job
    lines = await store.read_logs(job_id, attempt=attempt, after_id=cursor or 0,
                                  limit=limit or 1000)
    more = len(lines) == (limit or 1000)
    return JSONResponse({"job_id": job_id, "state": job.state.value,
                         "lines": [line_json(ln) for ln in lines],
                         "next_cursor": lines[-1].id if lines and more else None})


async def _tail(request: Request, store: Store, job_id: int, attempt: int | None,
                after: int, deadline: float) -> AsyncIterator[str]:
    while True:
        lines = await store.read_logs(job_id, attempt=attempt, after_id=after, limit=1000)
        for line in lines:
            after = line.id or after
            yield f"id: {after}\nevent: line\ndata: {json.dumps(line_json(line))}\n\n"
        if lines:
            continue
        state = (await store.get(job_id)).state
        if state in TERMINAL:
            yield f"event: end\ndata: {json.dumps({'state': state.value})}\n\n"
            return
        if time.monotonic() >= deadline or await request.is_disconnected():
            return
        yield ": still running\n\n"  # a comment keeps proxies from timing the stream out
        await asyncio.sleep(POLL)


@needs(Scope.READ)
async def stream_logs(request: Request) -> Response:
    job_id = path_id(request)
    f = query_fields(request.query_params)
    attempt = query_int(f, "attempt", 1, 1_000_000)
    # EventSource resends the last id it saw as Last-Event-ID after a reconnect.
    last = request.headers.get("last-event-id")
    cursor = query_int(f, "cursor", 0, MAX_ID)
    seconds = query_number(f, "timeout", 0.1, 3600)
    f.check()
    after = int(last) if last and last.isdigit() and len(last) < 19 else (cursor or 0)
    store = await web_state(request).store()
    await store.get(job_id)
    deadline = time.monotonic() + (seconds or 600)
    return StreamingResponse(_tail(request, store, job_id, attempt, after, deadline),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store"})


ROUTES = [
    Route("/api/jobs/{job_id}/logs", get_logs, methods=["GET"]),
    Route("/api/jobs/{job_id}/logs/stream", stream_logs, methods=["GET"]),
]

_ATTEMPT = spec.query("attempt", {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                      "one attempt only (default: every attempt)")
_CURSOR = spec.query("cursor", {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                     "only lines after this id (next_cursor of the previous page)")

PATHS: dict[str, dict[str, spec.Schema]] = {
    "/api/jobs/{job_id}/logs": {
        "get": spec.operation(
            "getJobLogs", "The stored log of a job's attempts, oldest line first",
            scope=Scope.READ,
            ok={200: spec.json_response("a page of log lines", spec.ref("LogPage"))},
            errors=(404, 422),
            params=[spec.JOB_ID, _ATTEMPT, _CURSOR,
                    spec.query("limit", {"type": "integer", "minimum": 1, "maximum": 5000},
                               "page size (default 1000)")]),
    },
    "/api/jobs/{job_id}/logs/stream": {
        "get": spec.operation(
            "streamJobLogs", "Follow a job's log live (Server-Sent Events: `line` events,"
            " then one `end` event when the job ends)", scope=Scope.READ,
            ok={200: {"description": "an event stream", "headers": spec.REQUEST_ID_HEADER,
                      "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
            errors=(404, 422),
            params=[spec.JOB_ID, _ATTEMPT, _CURSOR,
                    spec.query("timeout", {"type": "number", "minimum": 0.1, "maximum": 3600},
                               "stop following after this many seconds (default 600)")]),
    },
}
