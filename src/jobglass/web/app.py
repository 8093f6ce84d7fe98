"""`create_app`: the Starlette application serving the HTTP API.

    from jobglass.web import create_app, WebSettings
    asgi = create_app(jobglass.App("sqlite:///jobglass.db"), WebSettings(allow_shell=False))

Middleware, outermost first: request id (and the last-resort 500), body limit.
Routes: `routes_jobs`, `routes_queues`, `routes_health`, `/openapi.json`,
`/metrics` when `WebSettings.metrics` is given (the observability slice's app), and
the dashboard's pages (`jobglass.web.dashboard`) unless `WebSettings.dashboard` is off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from jobglass.app import App
from jobglass.observe.logs import get_logger
from jobglass.web import (
    dashboard,
    openapi,
    routes_health,
    routes_jobs,
    routes_logs,
    routes_queues,
)
from jobglass.web.limits import BodyLimitMiddleware
from jobglass.web.problems import exception_handlers
from jobglass.web.requestid import RequestIdMiddleware
from jobglass.web.settings import WebSettings, WebState
from jobglass.web.tracing import ServerSpanMiddleware

log = get_logger("jobglass.web")


def create_app(app: App | None = None, settings: WebSettings | None = None) -> Starlette:
    jobs_app = app or App()
    web_settings = settings or WebSettings()
    state = WebState(jobs_app, web_settings)
    doc = openapi.document(metrics=web_settings.metrics is not None)
    routes: list[BaseRoute] = [*routes_jobs.ROUTES, *routes_logs.ROUTES, *routes_queues.ROUTES,
                               *routes_health.ROUTES,
                               Route("/openapi.json", openapi.endpoint(doc), methods=["GET"])]
    if web_settings.metrics is not None:
        routes.append(Route(openapi.METRICS_PATH, web_settings.metrics, methods=["GET"]))
    if web_settings.dashboard:  # `/` and the pages; the API keeps its paths
        routes.extend(dashboard.routes())

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            await state.store()
        except Exception as exc:  # serve anyway: /readyz and /api/health say what is wrong
            log.warning("the store is unavailable at startup", error=str(exc))
        try:
            yield
        finally:
            if web_settings.close_store:
                await jobs_app.aclose()

    web = Starlette(
        routes=routes,
        middleware=[Middleware(RequestIdMiddleware),
                    *([Middleware(ServerSpanMiddleware, tracing=web_settings.tracing)]
                      if web_settings.tracing is not None else []),
                    Middleware(BodyLimitMiddleware, max_body=web_settings.max_body)],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    web.state.jobglass = state
    web.state.openapi = doc
    return web
