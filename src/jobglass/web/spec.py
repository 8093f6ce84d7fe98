"""A small builder for the OpenAPI document, and the schemas every route shares.

Each routes module describes its own paths with `operation(...)`, next to the
handlers; `openapi.document` puts them together. Every operation gets the error
responses it can produce (as problem+json) and the `X-Request-ID` header.
"""

from __future__ import annotations

from typing import Any

from jobglass.model import JobState
from jobglass.model.access import Scope

Schema = dict[str, Any]
MAX_ID = 2**63 - 1


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str | list[str], **more: Any) -> Schema:
    kinds = [kind] if isinstance(kind, str) else list(kind)
    return {"type": [*kinds, "null"], **more}


REQUEST_ID_HEADER = {"X-Request-ID": {
    "description": "this request's id: the client's if it was sane, else a new one",
    "schema": {"type": "string", "minLength": 1, "maxLength": 128},
}}

_ERROR_TEXT = {
    400: "malformed request (JSON that does not parse, a bad Content-Length)",
    401: "no token, or an unknown or revoked one (when the server needs one)",
    403: "the token's scope is too small, shell jobs are not allowed, or cross-origin",
    404: "no such job or resource",
    409: "the job cannot make that transition now",
    413: "the body is over the size limit",
    415: "the body is not JSON",
    422: "well-formed JSON of the wrong shape, or values out of range",
    503: "the store is unavailable",
}


def json_response(description: str, schema: Schema, *, media: str = "application/json",
                  headers: dict[str, Any] | None = None) -> Schema:
    return {"description": description, "headers": {**REQUEST_ID_HEADER, **(headers or {})},
            "content": {media: {"schema": schema}}}


def problem(status: int) -> Schema:
    return json_response(_ERROR_TEXT[status], ref("Problem"), media="application/problem+json")


def operation(op_id: str, summary: str, *, scope: Scope | None, ok: dict[int, Schema],
              errors: tuple[int, ...] = (), params: list[Schema] | None = None,
              body: Schema | None = None, body_required: bool = True, tag: str = "jobs"
              ) -> Schema:
    codes = set(errors) | {503}
    if scope is not None:
        codes |= {401, 403}
    if body is not None:
        codes |= {400, 413, 415, 422}
    op: Schema = {"operationId": op_id, "summary": summary, "tags": [tag],
                  "responses": {str(k): v for k, v in ok.items()}}
    for code in sorted(codes):
        op["responses"][str(code)] = problem(code)
    if scope is not None:
        op["description"] = f"Needs a `{scope.value}` token once the server requires tokens."
        op["security"] = [{"bearer": []}, {}]
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": body_required,
                             "content": {"application/json": {"schema": body}}}
    return op


def query(name: str, schema: Schema, description: str, **more: Any) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description, **more}


def path_param(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema,
            "description": description}


JOB_ID = path_param("job_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "a job id")
QUEUE_NAME = path_param("name", {"type": "string", "minLength": 1, "maxLength": 200,
                                 "pattern": "^[^/]+$"}, "a queue name")

_STATES = [s.value for s in JobState]
_ANY: Schema = {}

SCHEMAS: dict[str, Schema] = {
    "Problem": {
        "type": "object", "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "instance": {"type": "string"}, "request_id": {"type": "string"},
            "errors": {"type": "array", "items": {
                "type": "object", "required": ["in", "field", "message"],
                "properties": {"in": {"type": "string"}, "field": {"type": "string"},
                               "message": {"type": "string"}}}},
        },
    },
    "JobSubmit": {
        "type": "object", "additionalProperties": False,
        "description": "A Python job (`task`, `args`, `kwargs`) or, with an admin token on a"
                       " server started with --allow-shell, a shell job (`command`).",
        "properties": {
            "task": {"type": "string", "minLength": 1, "maxLength": 200},
            "command": {"type": "string", "minLength": 1, "maxLength": 10000},
            "args": {"type": "array"}, "kwargs": {"type": "object"},
            "queue": {"type": "string", "minLength": 1, "maxLength": 200},
            "priority": {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
            "delay": {"type": "number", "minimum": 0, "maximum": 1e9},
            "run_at": {"type": "number", "minimum": 0, "maximum": 1e11},
            "depends_on": {"type": "array", "maxItems": 1000,
                           "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
            "unique_key": {"type": "string", "minLength": 1, "maxLength": 200},
            "retries": {"type": "integer", "minimum": 0, "maximum": 1000},
            "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 1e7},
        },
        "anyOf": [{"required": ["task"]}, {"required": ["command"]}],
    },
    "JobBatch": {
        "type": "object", "required": ["jobs"], "additionalProperties": False,
        "properties": {"jobs": {"type": "array", "minItems": 1, "maxItems": 1000,
                                "items": ref("JobSubmit")}},
    },
    "CancelRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000}},
    },
    "Progress": nullable("object", required=["done", "total", "message"], properties={
        "done": nullable("number"), "total": nullable("number"),
        "message": nullable("string")}),
    "Job": {
        "type": "object",
        "required": ["id", "task", "queue", "kind", "state", "args", "kwargs", "command",
                     "priority", "run_at", "created_at", "started_at", "finished_at",
                     "attempt", "errors", "max_retries", "retries_left", "timeout",
                     "unique_key", "worker_id", "result", "error", "reason",
                     "cancel_requested", "progress", "depends_on", "request_id",
                     "traceparent"],
        "properties": {
            "id": {"type": "integer"}, "task": {"type": "string"}, "queue": {"type": "string"},
            "kind": {"type": "string", "enum": ["python", "shell"]},
            "state": {"type": "string", "enum": _STATES},
            "args": {"type": "array"}, "kwargs": {"type": "object"},
            "command": nullable("string"), "priority": {"type": "integer"},
            "run_at": {"type": "number"}, "created_at": {"type": "number"},
            "started_at": nullable("number"), "finished_at": nullable("number"),
            "attempt": {"type": "integer"}, "errors": {"type": "integer"},
            "max_retries": {"type": "integer"}, "retries_left": {"type": "integer"},
            "timeout": nullable("number"), "unique_key": nullable("string"),
            "worker_id": nullable("string"), "result": _ANY, "error": nullable("string"),
            "reason": nullable("string"), "cancel_requested": {"type": "boolean"},
            "progress": ref("Progress"),
            "depends_on": {"type": "array", "items": {"type": "integer"}},
            "request_id": nullable("string"), "traceparent": nullable("string"),
        },
    },
    "Attempt": {
        "type": "object",
        "required": ["number", "worker_id", "started_at", "ended_at", "outcome", "error_type",
                     "error_message", "traceback", "evidence", "trace_id", "ready_at",
                     "queue_wait_s"],
        "properties": {
            "number": {"type": "integer"}, "worker_id": nullable("string"),
            "started_at": {"type": "number"}, "ended_at": nullable("number"),
            "outcome": nullable("string"), "error_type": nullable("string"),
            "error_message": nullable("string"), "traceback": nullable("string"),
            "evidence": nullable("object"), "trace_id": nullable("string"),
            "ready_at": {**nullable("number"),
                         "description": "when the job became ready for this attempt"
                                        " (after any delay or retry backoff)"},
            "queue_wait_s": {**nullable("number"),
                             "description": "started_at - ready_at: time spent ready"
                                            " but not yet picked up"},
        },
    },
    "LogLine": {
        "type": "object",
        "required": ["id", "attempt", "ts", "level", "stream", "message", "fields"],
        "properties": {
            "id": {"type": "integer"}, "attempt": {"type": "integer"},
            "ts": {"type": "number"}, "level": {"type": "string"},
            "stream": {"type": "string"}, "message": {"type": "string"},
            "fields": nullable("object"),
        },
    },
    "LogPage": {
        "type": "object",
        "required": ["job_id", "state", "lines", "next_cursor"],
        "properties": {
            "job_id": {"type": "integer"}, "state": {"type": "string", "enum": _STATES},
            "lines": {"type": "array", "items": ref("LogLine")},
            "next_cursor": nullable("integer"),
        },
    },
    "JobDetail": {"allOf": [ref("Job"), {
        "type": "object", "required": ["attempts"],
        "properties": {"attempts": {"type": "array", "items": ref("Attempt")}}}]},
    "JobPage": {
        "type": "object", "required": ["jobs", "next_cursor"],
        "properties": {"jobs": {"type": "array", "items": ref("Job")},
                       "next_cursor": nullable("integer")},
    },
    "JobList": {"type": "object", "required": ["jobs"],
                "properties": {"jobs": {"type": "array", "items": ref("Job")}}},
    "Queue": {
        "type": "object",
        "required": ["name", "paused", "counts", "oldest_ready_age", "throughput",
                     "failure_rate"],
        "properties": {
            "name": {"type": "string"}, "paused": {"type": "boolean"},
            "counts": {"type": "object", "required": ["blocked", "queued", "running"],
                       "properties": {s: {"type": "integer"}
                                      for s in ("blocked", "queued", "running")}},
            "oldest_ready_age": nullable("number"),
            "throughput": {"type": "object",
                           "required": ["window", "succeeded", "failed", "cancelled",
                                        "per_minute"],
                           "properties": {"window": {"type": "number"},
                                          "succeeded": {"type": "integer"},
                                          "failed": {"type": "integer"},
                                          "cancelled": {"type": "integer"},
                                          "per_minute": {"type": "number"}}},
            "failure_rate": nullable("number"),
        },
    },
    "QueueList": {"type": "object", "required": ["queues"],
                  "properties": {"queues": {"type": "array", "items": ref("Queue")}}},
    "Worker": {
        "type": "object",
        "required": ["id", "state", "alive", "host", "pid", "queues", "started_at",
                     "last_heartbeat", "heartbeat_age", "current_jobs", "jobs_done", "evidence",
                     "lease"],
        "properties": {
            "id": {"type": "string"}, "state": {"type": "string"},
            "alive": {"type": "boolean"}, "host": {"type": "string"},
            "pid": {"type": "integer"},
            "queues": {"type": "array", "items": {"type": "string"}},
            "started_at": {"type": "number"}, "last_heartbeat": {"type": "number"},
            "heartbeat_age": {"type": "number"},
            "current_jobs": {"type": "array", "items": {"type": "integer"}},
            "jobs_done": {"type": "integer"}, "evidence": nullable("object"),
            "lease": nullable("number"),
        },
    },
    "WorkerList": {"type": "object", "required": ["workers"],
                   "properties": {"workers": {"type": "array", "items": ref("Worker")}}},
    "Check": {
        "type": "object",
        "required": ["name", "status", "observed", "threshold", "message", "jobs", "queues",
                     "workers"],
        "properties": {
            "name": {"type": "string"},
            "status": {"type": "string", "enum": ["ok", "degraded", "failing", "unknown"]},
            "observed": nullable("number"), "threshold": nullable("number"),
            "message": {"type": "string"},
            "jobs": {"type": "array", "items": {"type": "integer"}},
            "queues": {"type": "array", "items": {"type": "string"}},
            "workers": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Health": {
        "type": "object", "required": ["status", "checks", "sampled_at"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded", "failing"]},
            "sampled_at": {"type": "number"},
            "checks": {"type": "array", "items": ref("Check")},
        },
    },
    "Alive": {"type": "object", "required": ["status"],
              "properties": {"status": {"type": "string"}}},
    "Ready": {"type": "object", "required": ["status", "schema_version"],
              "properties": {"status": {"type": "string"},
                             "schema_version": {"type": "integer"}}},
}
