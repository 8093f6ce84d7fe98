"""`/jobs`: newest first, filtered by state, queue, task and request id, one keyset
page at a time (`?before=ID`), and a search box that goes straight to a job by id.

Nothing here counts history: the state tabs show counts for the active states only
(from the partial indexes), and "older" is a cursor, never an offset. A filter that
no index serves (state, queue, task) looks through at most `SCAN_WINDOW` ids per
request, newest first; when a window holds fewer than a page of matches, "older"
goes on with the next window, so one request never scans all of history."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from jobglass.model import Job, JobState
from jobglass.observe.redact import Redactor
from jobglass.store import JobFilter, Store
from jobglass.web.dashboard.access import page, render
from jobglass.web.inputs import MAX_ID, MAX_NAME
from jobglass.web.problems import Problem
from jobglass.web.settings import web_state

PAGE_SIZE = 50
SCAN_WINDOW = 100_000  # ids one filtered request looks through, at most
STATES = [s.value for s in JobState]


def _text(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    if len(value) > MAX_NAME:
        raise Problem(422, f"{name} is longer than {MAX_NAME} characters")
    return value or None


def _id(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    text = raw.strip().lstrip("#")
    if not text.isascii() or not text.isdigit() or len(text) > 19 or not 1 <= int(text) <= MAX_ID:
        raise Problem(422, f"{name} must be a job id (a whole number), not {raw[:40]!r}")
    return int(text)


def _brief(job: Job, redact: Redactor) -> Any:
    """What a row shows of the arguments (redacted): args, kwargs, or both."""
    if job.kwargs and job.args:
        return [redact(job.args), redact(job.kwargs)]
    return redact(job.kwargs) if job.kwargs else redact(job.args)


async def _newest(store: Store) -> int:
    newest = await store.list_jobs(JobFilter(), limit=1)
    return newest.jobs[0].id if newest.jobs else 0


def _tab(state: str | None, query: dict[str, str | None]) -> str:
    """The list in one state (None: all), keeping the other filters."""
    pairs = ([("state", state)] if state else []) + [(k, v) for k, v in query.items() if v]
    return "/jobs?" + urlencode(pairs) if pairs else "/jobs"


@page()
async def jobs(request: Request) -> Response:
    found_id = _id(_text(request, "id"), "id")
    if found_id is not None:
        return RedirectResponse(f"/jobs/{found_id}", status_code=303)
    states = [s for v in request.query_params.getlist("state") for s in v.split(",") if s]
    for s in states:
        if s not in STATES:
            raise Problem(422, f"state must be one of {', '.join(STATES)}, not {s[:40]!r}")
    query = {"queue": _text(request, "queue"), "task": _text(request, "task"),
             "request_id": _text(request, "request_id")}
    before = _id(_text(request, "before"), "before")
    store = await web_state(request).store()
    above = None  # a filter no index serves scans one window of ids per request
    if query["request_id"] is None and (states or query["queue"] or query["task"]):
        top = before if before is not None else await _newest(store) + 1
        above = max(0, top - 1 - SCAN_WINDOW) or None
    flt = JobFilter(states=[JobState(s) for s in states], queue=query["queue"],
                    task=query["task"], request_id=query["request_id"], above_id=above)
    found = await store.list_jobs(flt, limit=PAGE_SIZE, before_id=before)
    kept = [("state", s) for s in states] + [(k, v) for k, v in query.items() if v]
    older = None
    searched = None
    if found.next_cursor is not None:
        older = "/jobs?" + urlencode([*kept, ("before", str(found.next_cursor))])
    elif above is not None:  # this window is done: go on below it
        older = "/jobs?" + urlencode([*kept, ("before", str(above + 1))])
        searched = above + 1
    stats = await store.queue_stats()
    active = {s.value: sum(q.counts.get(s, 0) for q in stats)
              for s in (JobState.BLOCKED, JobState.QUEUED, JobState.RUNNING)}
    return render(request, "jobs.html", {
        "nav": "jobs", "jobs": found.jobs, "states": STATES, "chosen": states,
        "query": query, "before": before, "older": older, "searched": searched,
        "first": "/jobs?" + urlencode(kept) if before is not None else None,
        "active": active, "queue_names": [q.queue for q in stats],
        "tab": lambda s: _tab(s, query),
        "args_of": lambda job: _brief(job, web_state(request).settings.redactor),
    })


ROUTES = [Route("/jobs", jobs, methods=["GET"])]
