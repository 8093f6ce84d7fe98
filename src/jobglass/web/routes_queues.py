"""`/api/queues` (counts, oldest ready job, throughput, failure rate; pause and
resume) and `/api/workers` (alive or dead, host, pid, heartbeat age, jobs)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jobglass.model.access import Scope
from jobglass.observe.logs import get_logger
from jobglass.store import Store
from jobglass.web import spec
from jobglass.web.auth import needs
from jobglass.web.inputs import MAX_NAME
from jobglass.web.problems import Problem
from jobglass.web.serialize import queue_json, worker_json
from jobglass.web.settings import web_state

log = get_logger("jobglass.web")


async def _queues(store: Store, window: float, only: str | None = None) -> list[dict[str, Any]]:
    now = time.time()
    stats = {q.queue: q for q in await store.queue_stats(now=now)}
    done = {t.queue: t for t in await store.throughput(window, now=now)}
    names = sorted(set(stats) | set(done)) if only is None else [only]
    return [queue_json(n, stats.get(n), done.get(n), window) for n in names]


@needs(Scope.READ)
async def list_queues(request: Request) -> Response:
    state = web_state(request)
    store = await state.store()
    return JSONResponse({"queues": await _queues(store, state.settings.thresholds.window)})


async def _set_paused(request: Request, paused: bool) -> Response:
    name = str(request.path_params["name"])
    if not name.strip() or len(name) > MAX_NAME:
        raise Problem(422, f"a queue name has 1 to {MAX_NAME} characters",
                      errors=[{"in": "path", "field": "name", "message": "bad length"}])
    state = web_state(request)
    store = await state.store()
    await store.set_paused(name, paused)
    log.info("queue paused" if paused else "queue resumed", queue=name)
    found = await _queues(store, state.settings.thresholds.window, only=name)
    return JSONResponse(found[0])


@needs(Scope.ADMIN)
async def pause_queue(request: Request) -> Response:
    return await _set_paused(request, True)


@needs(Scope.ADMIN)
async def resume_queue(request: Request) -> Response:
    return await _set_paused(request, False)


@needs(Scope.READ)
async def list_workers(request: Request) -> Response:
    state = web_state(request)
    store = await state.store()
    now = time.time()
    dead_after = state.settings.thresholds.worker_dead_after
    return JSONResponse({"workers": [worker_json(w, now, dead_after)
                                     for w in await store.workers()]})


ROUTES = [
    Route("/api/queues", list_queues, methods=["GET"]),
    Route("/api/queues/{name}/pause", pause_queue, methods=["POST"]),
    Route("/api/queues/{name}/resume", resume_queue, methods=["POST"]),
    Route("/api/workers", list_workers, methods=["GET"]),
]


def _pause_op(op_id: str, summary: str) -> spec.Schema:
    return spec.operation(op_id, summary, scope=Scope.ADMIN, tag="queues",
                          ok={200: spec.json_response("the queue now", spec.ref("Queue"))},
                          errors=(404, 422), params=[spec.QUEUE_NAME])


PATHS: dict[str, dict[str, spec.Schema]] = {
    "/api/queues": {
        "get": spec.operation(
            "listQueues", "Every queue: active counts, oldest ready age, throughput, failure rate",
            scope=Scope.READ, tag="queues",
            ok={200: spec.json_response("the queues", spec.ref("QueueList"))}),
    },
    "/api/queues/{name}/pause": {
        "post": _pause_op("pauseQueue", "Stop workers claiming from this queue"),
    },
    "/api/queues/{name}/resume": {
        "post": _pause_op("resumeQueue", "Let workers claim from this queue again"),
    },
    "/api/workers": {
        "get": spec.operation(
            "listWorkers", "Workers, alive and dead, with what they hold", scope=Scope.READ,
            tag="workers", ok={200: spec.json_response("the workers", spec.ref("WorkerList"))}),
    },
}
