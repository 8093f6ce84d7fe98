"""`/workers` (host, pid, queues, heartbeat age, current jobs, jobs done; the dead with
what they held), `/queues` (counts, age, throughput; pause and resume with an admin
token) and `/queues/{name}` (one queue's last hour)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from jobglass.model.access import Scope
from jobglass.observe.logs import get_logger
from jobglass.web.dashboard import views
from jobglass.web.dashboard.access import page, render
from jobglass.web.inputs import MAX_NAME
from jobglass.web.problems import Problem
from jobglass.web.settings import web_state

log = get_logger("jobglass.web")


@page()
async def workers(request: Request) -> Response:
    state = web_state(request)
    found = await views.workers(await state.store(), state.settings.thresholds)
    return render(request, "workers.html", {
        "nav": "workers", "workers": found,
        "dead_after": state.settings.thresholds.worker_dead_after})


@page()
async def queues(request: Request) -> Response:
    state = web_state(request)
    found = await views.queues(await state.store(), state.settings.thresholds)
    return render(request, "queues.html", {"nav": "queues", "queues": found,
                                           "window": state.settings.thresholds.window})


def _name(request: Request) -> str:
    name = str(request.path_params["name"])
    if not name.strip() or len(name) > MAX_NAME:
        raise Problem(404, f"a queue name has 1 to {MAX_NAME} characters")
    return name


@page()
async def queue(request: Request) -> Response:
    name = _name(request)
    state = web_state(request)
    store = await state.store()
    found = [q for q in await views.queues(store, state.settings.thresholds)
             if q["name"] == name]
    charts = await views.queue_charts(store, name)
    if not found and all(c.empty for c in charts):
        raise Problem(404, f"no queue {name!r} has active jobs or recent figures")
    return render(request, "queue.html", {"nav": "queues", "q": found[0] if found else None,
                                          "name": name, "charts": charts,
                                          "window": state.settings.thresholds.window})


async def _set_paused(request: Request, paused: bool) -> Response:
    name = _name(request)
    store = await web_state(request).store()
    await store.set_paused(name, paused)
    view = request.state.viewer
    log.info("queue paused" if paused else "queue resumed", queue=name,
             by=view.principal.name if view.principal else "?")
    back = request.state.form.get("back")
    target = f"/queues/{quote(name, safe='')}" if back == "queue" else "/queues"
    return RedirectResponse(target, status_code=303)


@page(Scope.ADMIN)
async def pause(request: Request) -> Response:
    return await _set_paused(request, True)


@page(Scope.ADMIN)
async def resume(request: Request) -> Response:
    return await _set_paused(request, False)


ROUTES = [
    Route("/workers", workers, methods=["GET"]),
    Route("/queues", queues, methods=["GET"]),
    Route("/queues/{name}", queue, methods=["GET"]),
    Route("/queues/{name}/pause", pause, methods=["POST"]),
    Route("/queues/{name}/resume", resume, methods=["POST"]),
]
