"""`/jobs/{id}`: one job and every attempt (queue wait, duration, outcome, error,
traceback, reaper evidence, its stored log), parents and children, trace and request
ids; cancel and retry (write scope). A running attempt's log is tailed by polling
`/jobs/{id}/logs/tail?attempt=N&after=ID` (htmx), or by reloading without JavaScript."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from jobglass.model import JobState
from jobglass.model.access import Scope
from jobglass.observe.logs import get_logger
from jobglass.web.dashboard import views
from jobglass.web.dashboard.access import page, render
from jobglass.web.inputs import MAX_ID, path_id
from jobglass.web.problems import Problem
from jobglass.web.settings import web_state

log = get_logger("jobglass.web")


@page()
async def job(request: Request) -> Response:
    state = web_state(request)
    store = await state.store()
    found = await views.job_page(store, path_id(request), state.settings.redactor)
    return render(request, "job.html", {"nav": "jobs", "p": found, "j": found.job})


def _cursor(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_ID:
        raise Problem(422, f"{name} must be a whole number")
    return int(raw)


@page()
async def tail(request: Request) -> Response:
    """The attempt's lines after `after` as HTML rows, then, while the attempt runs,
    the element that asks for the next ones."""
    job_id = path_id(request)
    store = await web_state(request).store()
    current = await store.get(job_id)
    number = _cursor(request, "attempt", current.attempt)
    lines, more = await views.attempt_logs(store, job_id, number,
                                           _cursor(request, "after", 0))
    running = current.state is JobState.RUNNING and current.attempt == number
    after = (lines[-1].id or 0) if lines else _cursor(request, "after", 0)
    return render(request, "_tail.html", {"j": current, "number": number, "lines": lines,
                                          "live": running and not more, "more": more,
                                          "after": after})


async def _act(request: Request, verb: str) -> Response:
    job_id = path_id(request)
    store = await web_state(request).store()
    view = request.state.viewer
    who = view.principal.name if view.principal else "?"
    if verb == "cancel":
        done = await store.cancel(job_id, f"cancelled from the dashboard by {who}")
        log.info("job cancel requested" if done.state is JobState.RUNNING else "job cancelled",
                 job_id=job_id, by=who)
    else:
        await store.retry(job_id)
        log.info("job retried", job_id=job_id, by=who)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@page(Scope.WRITE)
async def cancel(request: Request) -> Response:
    return await _act(request, "cancel")


@page(Scope.WRITE)
async def retry(request: Request) -> Response:
    return await _act(request, "retry")


ROUTES = [
    Route("/jobs/{job_id}", job, methods=["GET"]),
    Route("/jobs/{job_id}/logs/tail", tail, methods=["GET"]),
    Route("/jobs/{job_id}/cancel", cancel, methods=["POST"]),
    Route("/jobs/{job_id}/retry", retry, methods=["POST"]),
]
