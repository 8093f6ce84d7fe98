"""What a server is started with, and what every handler reaches through the request."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from starlette.requests import Request
from starlette.responses import Response

from jobglass.app import App
from jobglass.model import JobglassError, StoreUnavailable
from jobglass.observe.health import StoreWatch, Thresholds
from jobglass.observe.redact import Redactor
from jobglass.observe.tracing import Tracing
from jobglass.store import Store
from jobglass.web.limits import DEFAULT_MAX_BODY

TRACE_URL_ENV = "JOBGLASS_TRACE_URL"
SESSION_SECRET_ENV = "JOBGLASS_SESSION_SECRET"


class AuthMode(StrEnum):
    AUTO = "auto"  # open while no token exists (loopback, or --insecure); tokens once one does
    REQUIRED = "required"  # always a token (a non-loopback bind); no token at all: nobody gets in


@dataclass(frozen=True, slots=True)
class WebSettings:
    allow_shell: bool = False  # shell jobs over HTTP: only with this AND an admin token
    max_body: int = DEFAULT_MAX_BODY
    max_batch: int = 1000
    auth: AuthMode = AuthMode.AUTO
    redactor: Redactor = field(default_factory=Redactor.from_env)
    thresholds: Thresholds = field(default_factory=Thresholds)
    # GET /metrics, when given (the observability slice's exporter: `web.metrics.endpoint`)
    metrics: Callable[[Request], Awaitable[Response]] | None = None
    close_store: bool = True  # close the App's store on shutdown (False when a worker shares it)
    tracing: Tracing | None = None  # continue incoming traceparents with a SERVER span
    # the dashboard: a trace's link ("http://jaeger:16686/trace/{trace_id}"), and the key that
    # signs session cookies (default JOBGLASS_SESSION_SECRET, else random per process)
    dashboard: bool = True
    trace_url: str | None = field(default_factory=lambda: os.environ.get(TRACE_URL_ENV) or None)
    session_secret: str | None = field(
        default_factory=lambda: os.environ.get(SESSION_SECRET_ENV) or None)


class WebState:
    """The App (task registry and store), the settings and the store watch."""

    def __init__(self, app: App, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings
        self.watch = StoreWatch()

    async def store(self) -> Store:
        """The store on this event loop; any failure to open it is `StoreUnavailable`."""
        try:
            return await self.app.astore()
        except JobglassError:
            raise
        except Exception as exc:
            raise StoreUnavailable(f"cannot open the store: {exc}") from exc


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.jobglass
    return state
