"""The HTTP API: Starlette routes over the store, with request ids, tokens, problem+json
errors, a health verdict and an OpenAPI document."""

from jobglass.web.app import create_app
from jobglass.web.auth import check_bind
from jobglass.web.settings import AuthMode, WebSettings

__all__ = ["AuthMode", "WebSettings", "check_bind", "create_app"]
