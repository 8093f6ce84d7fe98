"""`/login` (a form that takes an API token and sets the session cookie) and `/logout`.

A login checks the token like the API does (its SHA-256, active only) and starts a new
session id, so a session id planted before the login is worth nothing after it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from jobglass.model.access import hash_token
from jobglass.observe.logs import get_logger
from jobglass.web.dashboard.access import dashboard, page, render, safe_next
from jobglass.web.dashboard.session import new_session
from jobglass.web.settings import web_state

log = get_logger("jobglass.web")


@page(login=False)
async def login_form(request: Request) -> Response:
    view = request.state.viewer
    target = safe_next(request.query_params.get("next"))
    if view.principal is not None and not request.query_params.get("again"):
        return RedirectResponse(target, status_code=303)
    return render(request, "login.html", {"nav": "", "next": target, "error": None})


@page(login=False)
async def login(request: Request) -> Response:
    form = request.state.form
    target = safe_next(str(form.get("next") or "/"))
    secret = str(form.get("token") or "").strip()
    store = await web_state(request).store()
    token = await store.token_by_hash(hash_token(secret)) if secret else None
    if token is None:
        log.info("dashboard login refused")
        return render(request, "login.html", {
            "nav": "", "next": target,
            "error": "That token is unknown or revoked."}, status=401)
    session = new_session(token_hash=hash_token(secret), name=token.name,
                          scope=token.scope.value)
    response = RedirectResponse(target, status_code=303)
    dashboard(request).sessions.set_cookie(request, response, session)
    log.info("dashboard login", token=token.name, scope=token.scope.value)
    return response


@page(login=False)
async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    dashboard(request).sessions.set_cookie(request, response, new_session())
    return response


ROUTES = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
