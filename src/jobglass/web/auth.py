"""Who may do what: bearer tokens with read < write < admin scopes.

- No `Authorization` header: allowed (as admin) only while the server runs in
  `AuthMode.AUTO` and no active token exists; otherwise 401.
- `Authorization: Bearer <token>`: looked up by its SHA-256; unknown or revoked:
  401; a scope below the route's: 403.
- A browser's cross-site request (an `Origin` that is not this host) may not change
  anything: 403. With no token needed on localhost, this is what keeps a web page
  from cancelling your jobs.

`check_bind` decides, before the server starts, whether an address may be served.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from jobglass.model import ConfigError
from jobglass.model.access import Scope, hash_token
from jobglass.web.problems import Problem
from jobglass.web.settings import AuthMode, web_state

Handler = Callable[[Request], Awaitable[Response]]
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="jobglass"'}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Principal:
    name: str  # the token's name, or "anonymous" on an open server
    scope: Scope


ANONYMOUS = Principal("anonymous", Scope.ADMIN)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, has_tokens: bool, insecure: bool) -> tuple[AuthMode, str | None]:
    """The auth mode for serving on `host`, and a warning to print (or `ConfigError`)."""
    if has_tokens:
        return (AuthMode.AUTO if insecure or is_loopback(host) else AuthMode.REQUIRED), None
    if is_loopback(host):
        return AuthMode.AUTO, (f"serving on {host} without API tokens: anyone on this machine"
                               " may use the API (jobglass token create --name ... --scope ...)")
    if insecure:
        return AuthMode.AUTO, (f"serving on {host} with NO authentication (--insecure): anyone"
                               " who can reach this address may use the API")
    raise ConfigError(f"refusing to serve on {host} without API tokens: create one with"
                      " `jobglass token create --name NAME --scope admin`, or pass --insecure")


def _bearer(header: str) -> str:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "the Authorization header must be `Bearer <token>`", headers=_CHALLENGE)
    return token.strip()


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


async def authorize(request: Request, needed: Scope) -> Principal:
    if request.method not in _SAFE_METHODS and not _same_origin(request):
        raise Problem(403, "cross-origin requests may not change anything")
    state = web_state(request)
    header = request.headers.get("authorization")
    store = await state.store()
    if header is None:
        if state.settings.auth is AuthMode.AUTO and not await store.has_tokens():
            return ANONYMOUS
        raise Problem(401, "this server needs an API token: send `Authorization: Bearer <token>`",
                      headers=_CHALLENGE)
    token = await store.token_by_hash(hash_token(_bearer(header)))
    if token is None:
        raise Problem(401, "unknown or revoked API token", headers=_CHALLENGE)
    if not token.scope.allows(needed):
        raise Problem(403, f"this needs a {needed.value} token; {token.name!r} is"
                           f" {token.scope.value}")
    return Principal(token.name, token.scope)


def needs(scope: Scope) -> Callable[[Handler], Handler]:
    """Route decorator: authorize first; the principal lands on `request.state.principal`."""

    def wrap(fn: Handler) -> Handler:
        @functools.wraps(fn)
        async def handler(request: Request) -> Response:
            request.state.principal = await authorize(request, scope)
            return await fn(request)

        handler.__dict__["required_scope"] = scope
        return handler

    return wrap


def principal(request: Request) -> Principal:
    found: Principal = request.state.principal
    return found
