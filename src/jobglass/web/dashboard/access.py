"""Who is looking at a page, and what they may do: the API's rules, through a cookie.

- An open server (`AuthMode.AUTO` and no active token: loopback, or `--insecure`)
  shows everything to everyone, with every button, exactly as the API lets anyone in.
- Otherwise a login (the same tokens as the API) is needed; the session cookie holds
  the token's hash, looked up on every request, so revoking a token logs it out.
- A page needs `read`; cancel and retry need `write`; pause and resume need `admin`.
  Buttons a viewer may not use are not shown.
- Every POST must come from this site (`Origin`, when sent) and carry the session's
  CSRF token, or it is refused with a 403 page before anything happens.

`page(scope)` wraps each handler with all of that, and turns the domain's errors
(unknown job: 404, illegal transition: 409, store down: 503) into HTML error pages.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jobglass.model.access import Scope
from jobglass.web.auth import ANONYMOUS, Principal
from jobglass.web.dashboard.render import Templates, error_page
from jobglass.web.dashboard.session import COOKIE, CSRF_FIELD, Session, Sessions, new_session
from jobglass.web.problems import HANDLED, Problem, to_problem
from jobglass.web.settings import AuthMode, web_state

Handler = Callable[[Request], Awaitable[Response]]


class Dashboard:
    """Per-server state: the signing key and the templates."""

    def __init__(self, secret: str | None, trace_url: str | None) -> None:
        self.sessions = Sessions(secret)
        self.templates = Templates(trace_url=trace_url)


def dashboard(request: Request) -> Dashboard:
    found: Dashboard | None = getattr(request.app.state, "dashboard", None)
    if found is None:  # made on first use, from the server's settings
        settings = web_state(request).settings
        found = Dashboard(settings.session_secret, settings.trace_url)
        request.app.state.dashboard = found
    return found


@dataclass(slots=True)
class Viewer:
    principal: Principal | None  # None: must log in
    session: Session
    fresh: bool  # the session is new: its cookie must be set on the response
    open_server: bool  # no token needed here
    csrf: str

    def can(self, scope: Scope | str) -> bool:
        return self.principal is not None and self.principal.scope.allows(Scope(scope))


async def viewer(request: Request) -> Viewer:
    board = dashboard(request)
    state = web_state(request)
    store = await state.store()
    session = board.sessions.decode(request.cookies.get(COOKIE))
    fresh = session is None
    if session is None:
        session = new_session()
    principal: Principal | None = None
    if session.token_hash is not None:
        token = await store.token_by_hash(session.token_hash)
        if token is not None:
            principal = Principal(token.name, token.scope)
    open_server = state.settings.auth is AuthMode.AUTO and not await store.has_tokens()
    if principal is None and open_server:
        principal = ANONYMOUS
    return Viewer(principal, session, fresh, open_server, board.sessions.csrf(session))


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # not a browser's cross-site form: the CSRF token still decides
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//elsewhere` or `https://elsewhere`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def check_post(request: Request, view: Viewer) -> FormData:
    """The form of a POST that came from this site with this session's CSRF token."""
    if not same_origin(request):
        raise Problem(403, "this form was posted from another site")
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if view.fresh or not dashboard(request).sessions.csrf_ok(
            view.session, sent if isinstance(sent, str) else None):
        raise Problem(403, "the form's CSRF token is missing or wrong: reload the page and"
                           " try again")
    return form


def render(request: Request, template: str, context: dict[str, Any], *,
           status: int = 200) -> Response:
    view: Viewer | None = getattr(request.state, "viewer", None)
    board = dashboard(request)
    response = board.templates.response(request, template, {**context, "viewer": view},
                                        status=status)
    if view is not None and view.fresh:
        board.sessions.set_cookie(request, response, view.session)
    return response


def page(needed: Scope = Scope.READ, *, login: bool = True) -> Callable[[Handler], Handler]:
    """Route decorator: the viewer on `request.state.viewer` (and the checked form on
    `request.state.form` for a POST); errors as HTML pages."""

    def wrap(fn: Handler) -> Handler:
        @functools.wraps(fn)
        async def handler(request: Request) -> Response:
            try:
                view = await viewer(request)
                request.state.viewer = view
                if request.method == "POST":
                    request.state.form = await check_post(request, view)
                if login and view.principal is None:
                    return _to_login(request, view)
                if login and not view.can(needed):
                    assert view.principal is not None
                    raise Problem(403, f"this needs a {needed.value} token;"
                                       f" {view.principal.name!r} is"
                                       f" {view.principal.scope.value}")
                return await fn(request)
            except HANDLED as exc:
                problem = to_problem(exc)
                return error_response(request, problem)

        handler.__dict__["required_scope"] = needed
        return handler

    return wrap


def error_response(request: Request, problem: Problem) -> Response:
    response = error_page(request, dashboard(request).templates, problem,
                          getattr(request.state, "viewer", None))
    view: Viewer | None = getattr(request.state, "viewer", None)
    if view is not None and view.fresh:
        dashboard(request).sessions.set_cookie(request, response, view.session)
    return response


def _to_login(request: Request, view: Viewer) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if view.fresh:
        dashboard(request).sessions.set_cookie(request, response, view.session)
    return response
