"""`/api/jobs`: submit (one or a batch), list with filters and a keyset cursor, show
one with every attempt, cancel, retry."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jobglass.app import SHELL_TASK, App, EnqueueOptions
from jobglass.model import JobSpec, JobState
from jobglass.model.access import Scope
from jobglass.observe.logs import get_logger
from jobglass.store import JobFilter
from jobglass.web import spec
from jobglass.web.auth import needs, principal
from jobglass.web.inputs import (
    MAX_ID,
    Fields,
    path_id,
    query_fields,
    query_int,
    query_number,
    read_json,
)
from jobglass.web.problems import Problem
from jobglass.web.serialize import attempt_json, job_json
from jobglass.web.settings import web_state

log = get_logger("jobglass.web")

SUBMIT_FIELDS = {"task", "command", "args", "kwargs", "queue", "priority", "delay", "run_at",
                 "depends_on", "unique_key", "retries", "timeout"}


def parse_submit(f: Fields, app: App) -> JobSpec | None:
    """One job from its JSON; None (with `f.errors` filled) when it is not acceptable."""
    f.only(SUBMIT_FIELDS)
    task = f.string("task")
    command = f.string("command", max_len=10000)
    args, kwargs = f.array("args"), f.obj("kwargs")
    delay, run_at = f.number("delay", 0, 1e9), f.number("run_at", 0, 1e11)
    options = EnqueueOptions(
        queue=f.string("queue"), priority=f.integer("priority", -(2**31), 2**31 - 1),
        delay=delay, run_at=run_at, depends_on=tuple(f.ids("depends_on")),
        unique_key=f.string("unique_key"), retries=f.integer("retries", 0, 1000),
        timeout=f.number("timeout", 0, 1e7, above=True))
    if task is not None and command is not None:
        f.fail("command", "give task (a Python job) or command (a shell job), not both")
    elif task is None and command is None and "task" not in f.data and "command" not in f.data:
        f.fail("task", "is required (or command, for a shell job)")
    if command is not None and (args or kwargs):
        f.fail("args", "a shell job takes no args or kwargs")
    if task == SHELL_TASK:
        f.fail("task", f"{SHELL_TASK!r} is reserved for shell jobs; send command instead")
    if delay is not None and run_at is not None:
        f.fail("run_at", "give delay or run_at, not both")
    if f.errors:
        return None
    try:
        if command is not None:
            return app.shell_spec(command, options)
        return app.spec_for(task or "", args or [], kwargs or {}, options)
    except (TypeError, ValueError) as exc:
        f.fail("", str(exc))
        return None


def _allow_shell(request: Request, specs: list[JobSpec]) -> None:
    if not any(s.command is not None for s in specs):
        return
    if not web_state(request).settings.allow_shell:
        raise Problem(403, "this server does not accept shell jobs (start it with --allow-shell)")
    if principal(request).scope is not Scope.ADMIN:
        raise Problem(403, "shell jobs need an admin token")


async def _enqueue(request: Request, specs: list[JobSpec]) -> tuple[list[Any], list[bool]]:
    _allow_shell(request, specs)
    state = web_state(request)
    await state.store()  # StoreUnavailable -> 503 before anything else
    before = time.time()
    handles = await state.app.aenqueue_specs(specs)
    jobs = [h.job for h in handles]
    fresh = [job.created_at >= before for job in jobs]
    for job, new in zip(jobs, fresh, strict=True):
        log.info("job enqueued" if new else "job already enqueued under its unique key",
                 job_id=job.id, task=job.task, queue=job.queue, state=job.state.value)
    return jobs, fresh


@needs(Scope.WRITE)
async def submit(request: Request) -> Response:
    f = Fields(await read_json(request))
    job_spec = parse_submit(f, web_state(request).app)
    f.check()
    assert job_spec is not None
    jobs, fresh = await _enqueue(request, [job_spec])
    redact = web_state(request).settings.redactor
    return JSONResponse(job_json(jobs[0], redact), status_code=201 if fresh[0] else 200,
                        headers={"Location": f"/api/jobs/{jobs[0].id}"})


@needs(Scope.WRITE)
async def submit_batch(request: Request) -> Response:
    body = Fields(await read_json(request))
    body.only({"jobs"})
    items = body.data.get("jobs")
    limit = web_state(request).settings.max_batch
    if not isinstance(items, list) or not 1 <= len(items) <= limit:
        body.fail("jobs", f"must be a list of 1 to {limit} jobs")
        body.check()
    specs: list[JobSpec] = []
    for index, item in enumerate(items or []):
        f = Fields(item, prefix=f"jobs/{index}/")
        parsed = parse_submit(f, web_state(request).app)
        body.errors.extend(f.errors)
        if parsed is not None:
            specs.append(parsed)
    body.check()
    jobs, _ = await _enqueue(request, specs)
    redact = web_state(request).settings.redactor
    return JSONResponse({"jobs": [job_json(j, redact) for j in jobs]}, status_code=201)


@needs(Scope.READ)
async def list_jobs(request: Request) -> Response:
    f = query_fields(request.query_params)
    raw_states = [s for v in request.query_params.getlist("state") for s in v.split(",") if s]
    states: list[JobState] = []
    for raw in raw_states:
        try:
            states.append(JobState(raw))
        except ValueError:
            f.fail("state", f"must be one of {', '.join(s.value for s in JobState)}")
    flt = JobFilter(states=states, queue=f.string("queue"), task=f.string("task"),
                    request_id=f.string("request_id"),
                    created_after=query_number(f, "created_after", 0, 1e11),
                    created_before=query_number(f, "created_before", 0, 1e11))
    limit = query_int(f, "limit", 1, 1000)
    cursor = query_int(f, "cursor", 1, MAX_ID)
    f.check()
    store = await web_state(request).store()
    page = await store.list_jobs(flt, limit=limit or 50, before_id=cursor)
    redact = web_state(request).settings.redactor
    return JSONResponse({"jobs": [job_json(j, redact) for j in page.jobs],
                         "next_cursor": page.next_cursor})


@needs(Scope.READ)
async def get_job(request: Request) -> Response:
    job_id = path_id(request)
    store = await web_state(request).store()
    job = await store.get(job_id)
    attempts = await store.attempts(job_id)
    body = job_json(job, web_state(request).settings.redactor)
    body["attempts"] = [attempt_json(a) for a in attempts]
    return JSONResponse(body)


@needs(Scope.WRITE)
async def cancel_job(request: Request) -> Response:
    job_id = path_id(request)
    f = Fields(await read_json(request, optional=True) or {})
    f.only({"reason"})
    reason = f.string("reason", max_len=1000)
    f.check()
    store = await web_state(request).store()
    job = await store.cancel(job_id, reason or f"cancelled over the API by"
                                                f" {principal(request).name}")
    log.info("job cancel requested" if job.state is JobState.RUNNING else "job cancelled",
             job_id=job_id)
    return JSONResponse(job_json(job, web_state(request).settings.redactor))


@needs(Scope.WRITE)
async def retry_job(request: Request) -> Response:
    job_id = path_id(request)
    store = await web_state(request).store()
    job = await store.retry(job_id)
    log.info("job retried", job_id=job_id)
    return JSONResponse(job_json(job, web_state(request).settings.redactor))


ROUTES = [
    Route("/api/jobs", list_jobs, methods=["GET"]),
    Route("/api/jobs", submit, methods=["POST"]),
    Route("/api/jobs/batch", submit_batch, methods=["POST"]),
    Route("/api/jobs/{job_id}", get_job, methods=["GET"]),
    Route("/api/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
    Route("/api/jobs/{job_id}/retry", retry_job, methods=["POST"]),
]

_JOB = spec.ref("Job")
_LOCATION = {"Location": {"description": "the job's URL", "schema": {"type": "string"}}}
_NUM = {"type": "number", "minimum": 0, "maximum": 1e11}

PATHS: dict[str, dict[str, spec.Schema]] = {
    "/api/jobs": {
        "get": spec.operation(
            "listJobs", "Jobs, newest first, filtered, one page at a time", scope=Scope.READ,
            ok={200: spec.json_response("a page of jobs; pass next_cursor as cursor for more",
                                        spec.ref("JobPage"))},
            errors=(422,),
            params=[
                spec.query("state", {"type": "array", "items": {
                    "type": "string", "enum": [s.value for s in JobState]}},
                    "only jobs in these states (repeat, or comma-separate)",
                    style="form", explode=True),
                spec.query("queue", {"type": "string", "minLength": 1, "maxLength": 200},
                           "only this queue"),
                spec.query("task", {"type": "string", "minLength": 1, "maxLength": 200},
                           "only this task"),
                spec.query("request_id", {"type": "string", "minLength": 1, "maxLength": 200},
                           "only jobs created by the request with this X-Request-ID"),
                spec.query("created_after", _NUM, "created at or after (Unix seconds)"),
                spec.query("created_before", _NUM, "created before (Unix seconds)"),
                spec.query("limit", {"type": "integer", "minimum": 1, "maximum": 1000},
                           "page size (default 50)"),
                spec.query("cursor", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                           "next_cursor of the previous page"),
            ]),
        "post": spec.operation(
            "submitJob", "Submit one job", scope=Scope.WRITE,
            ok={201: spec.json_response("stored", _JOB, headers=_LOCATION),
                200: spec.json_response("an active job already holds unique_key; it is returned",
                                        _JOB, headers=_LOCATION)},
            errors=(403,), body=spec.ref("JobSubmit")),
    },
    "/api/jobs/batch": {
        "post": spec.operation(
            "submitJobs", "Submit many jobs in one transaction: all or nothing",
            scope=Scope.WRITE, ok={201: spec.json_response("stored", spec.ref("JobList"))},
            errors=(403,), body=spec.ref("JobBatch")),
    },
    "/api/jobs/{job_id}": {
        "get": spec.operation(
            "getJob", "One job with every attempt, its progress, result, error and evidence",
            scope=Scope.READ, ok={200: spec.json_response("the job", spec.ref("JobDetail"))},
            errors=(404,), params=[spec.JOB_ID]),
    },
    "/api/jobs/{job_id}/cancel": {
        "post": spec.operation(
            "cancelJob", "Cancel a job (a running one is asked to stop)", scope=Scope.WRITE,
            ok={200: spec.json_response("cancelled, or cancel requested", _JOB)},
            errors=(404, 409), params=[spec.JOB_ID], body=spec.ref("CancelRequest"),
            body_required=False),
    },
    "/api/jobs/{job_id}/retry": {
        "post": spec.operation(
            "retryJob", "Run a failed or cancelled job again", scope=Scope.WRITE,
            ok={200: spec.json_response("queued again", _JOB)},
            errors=(404, 409), params=[spec.JOB_ID]),
    },
}
