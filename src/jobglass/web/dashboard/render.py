"""Templates: one Jinja environment with autoescape on, the filters, and the error page."""

from __future__ import annotations

import time
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from jobglass.web.dashboard import filters
from jobglass.web.problems import REQUEST_ID_KEY, Problem

STATIC = "/_static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
       " img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none';"
       " base-uri 'none'")


class Templates:
    def __init__(self, *, trace_url: str | None) -> None:
        self.env = Environment(loader=PackageLoader("jobglass.web.dashboard", "templates"),
                               autoescape=True, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters.update(filters.FILTERS)
        self.env.globals.update(static=STATIC, trace_url=trace_url,
                                trace_link=lambda tid: filters.trace_link(tid, trace_url))

    def render(self, template: str, context: dict[str, Any]) -> str:
        return self.env.get_template(template).render(context)

    def response(self, request: Request, template: str, context: dict[str, Any], *,
                 status: int = 200) -> Response:
        full = {"request": request, "path": request.url.path, "now": time.time(),
                "request_id": request.scope.get(REQUEST_ID_KEY), **context}
        return HTMLResponse(self.render(template, full), status_code=status,
                            headers={"Cache-Control": "no-store",
                                     "X-Frame-Options": "DENY",
                                     "X-Content-Type-Options": "nosniff",
                                     "Referrer-Policy": "same-origin",
                                     "Content-Security-Policy": CSP})


def error_page(request: Request, templates: Templates, problem: Problem, viewer: Any
               ) -> Response:
    response = templates.response(request, "error.html",
                                  {"problem": problem, "viewer": viewer, "nav": ""},
                                  status=problem.status)
    response.headers.update(problem.headers)
    return response
