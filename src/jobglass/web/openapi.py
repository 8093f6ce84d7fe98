"""The OpenAPI 3.1 document, assembled from the paths each routes module declares
beside its handlers. A test checks every route is in it and nothing else is."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import jobglass
from jobglass.web import routes_health, routes_jobs, routes_logs, routes_queues, spec

METRICS_PATH = "/metrics"


def document(*, metrics: bool = False) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for module in (routes_jobs, routes_logs, routes_queues, routes_health):
        for path, item in module.PATHS.items():
            paths.setdefault(path, {}).update(item)
    paths["/openapi.json"] = {"get": {
        "operationId": "openapi", "summary": "This document", "tags": ["meta"],
        "responses": {"200": spec.json_response("the OpenAPI document", {"type": "object"})}}}
    if metrics:
        paths[METRICS_PATH] = {"get": {
            "operationId": "metrics", "summary": "Prometheus metrics", "tags": ["meta"],
            "responses": {"200": {"description": "the text exposition format",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "jobglass", "version": jobglass.__version__,
                 "description": "Durable background jobs that explain themselves. Errors are"
                                " application/problem+json (RFC 9457)."},
        "paths": paths,
        "components": {
            "schemas": spec.SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "jobglass token create"}},
        },
    }


def endpoint(doc: dict[str, Any]) -> Any:
    async def openapi(request: Request) -> Response:
        return JSONResponse(doc)

    return openapi
