"""Probes and the health verdict.

- `/healthz`: the process answers (no store access, no token).
- `/readyz`: the store answers and its schema is current (no token): 200 or 503.
- `/api/health`: the verdict of `jobglass.observe.health`: 200 for ok and degraded,
  503 for failing. When the store is down the verdict says so, even to a client
  whose token cannot be checked (it then carries nothing but the store's error).
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jobglass.model import StoreUnavailable
from jobglass.model.access import Scope
from jobglass.observe.health import assess
from jobglass.store import Store
from jobglass.store.migrations import latest_version
from jobglass.web import spec
from jobglass.web.auth import authorize
from jobglass.web.problems import Problem
from jobglass.web.settings import web_state


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def expected_schema_version(store: Store) -> int | None:
    """The newest migration shipped with this store's backend package."""
    package = type(store).__module__.rsplit(".", 1)[0]
    try:
        return latest_version(package)
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        return None


async def readyz(request: Request) -> Response:
    store = await web_state(request).store()
    try:
        await asyncio.wait_for(store.ping(), 5.0)
        version = await store.schema_version()
    except (TimeoutError, StoreUnavailable) as exc:
        raise Problem(503, f"the store does not answer: {exc or 'timed out'}") from exc
    expected = expected_schema_version(store)
    if expected is not None and version != expected:
        raise Problem(503, f"the schema is at version {version}, this code needs {expected}:"
                           " run `jobglass migrate`")
    return JSONResponse({"status": "ready", "schema_version": version})


async def api_health(request: Request) -> Response:
    state = web_state(request)
    store: Store | None = None
    error: str | None = None
    try:
        await authorize(request, Scope.READ)
        store = await state.store()
    except StoreUnavailable as exc:
        error = str(exc)
    verdict = await assess(store, state.settings.thresholds, watch=state.watch, error=error)
    return JSONResponse(verdict.as_dict(), status_code=503 if verdict.failing else 200)


ROUTES = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/api/health", api_health, methods=["GET"]),
]

_VERDICT = spec.ref("Health")

PATHS: dict[str, dict[str, spec.Schema]] = {
    "/healthz": {
        "get": spec.operation("healthz", "The process is alive", scope=None, tag="health",
                              ok={200: spec.json_response("alive", spec.ref("Alive"))}),
    },
    "/readyz": {
        "get": spec.operation(
            "readyz", "The store is reachable and its schema current", scope=None, tag="health",
            ok={200: spec.json_response("ready", spec.ref("Ready"))}),
    },
    "/api/health": {
        "get": {
            **spec.operation(
                "health", "The health verdict: every check, its observation and threshold",
                scope=Scope.READ, tag="health",
                ok={200: spec.json_response("ok or degraded", _VERDICT)}),
            "responses": {
                "200": spec.json_response("ok or degraded", _VERDICT),
                "503": spec.json_response("failing (the store may be down)", _VERDICT),
                "401": spec.problem(401), "403": spec.problem(403),
            },
        },
    },
}
