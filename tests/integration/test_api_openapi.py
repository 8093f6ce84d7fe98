"""The OpenAPI document matches the server: every route is in it (and nothing else),
and a schemathesis run over it, positive and negative examples alike, finds no 5xx
and no response that breaks the schema."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

import jobglass
from jobglass.web import WebSettings, create_app, dashboard


def routes_of(web: Starlette) -> set[tuple[str, str]]:
    """The API's routes: the dashboard's HTML pages are not part of the document."""
    pages = {r.path for r in dashboard.routes() if isinstance(r, Route)}
    return {(r.path, m.lower()) for r in web.routes if isinstance(r, Route)
            and r.path not in pages for m in (r.methods or ()) if m != "HEAD"}


def documented(doc: dict[str, object]) -> set[tuple[str, str]]:
    paths = doc["paths"]
    assert isinstance(paths, dict)
    return {(p, m) for p, item in paths.items() for m in item}


async def metrics_stub(request: Request) -> Response:
    return PlainTextResponse("# nothing\n")


@pytest.mark.parametrize("metrics", [False, True])
def test_every_route_is_documented_and_nothing_else(tmp_path: Path, metrics: bool) -> None:
    web = create_app(jobglass.App(f"sqlite:///{tmp_path}/j.db"),
                     WebSettings(metrics=metrics_stub if metrics else None))
    doc = web.state.openapi
    assert routes_of(web) == documented(doc)
    assert (("/metrics", "get") in routes_of(web)) is metrics
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


async def test_the_served_document_is_the_one_built(tmp_path: Path) -> None:
    from apiclient import serve_app

    async with serve_app(tmp_path) as api:
        served = (await api.client.get("/openapi.json")).json()
        assert served["openapi"] == "3.1.0"
        assert set(served["components"]["schemas"]) >= {"Job", "Problem", "Health", "Queue"}


# -- schemathesis ---------------------------------------------------------------------

_TMP = tempfile.TemporaryDirectory(prefix="jobglass-schemathesis-")
_APP = jobglass.App(f"sqlite:///{_TMP.name}/api.db")
WEB = create_app(_APP, WebSettings(allow_shell=False, max_body=64 * 1024))
# The live tail follows a queued job until it ends (or its timeout): it has its own tests.
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", WEB).exclude(
    operation_id="streamJobLogs")
VERDICTS = {"/api/health", "/readyz"}  # their 503 is the answer asked for, not a crash


def no_server_error(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                    case: schemathesis.Case) -> bool | None:
    if response.status_code >= 500 and not (
            response.status_code == 503 and case.operation.path in VERDICTS):
        raise AssertionError(f"{response.status_code} from {case.method} {case.path}:"
                             f" {response.text[:500]}")
    return None


CHECKS = [no_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


@pytest.fixture(scope="module", autouse=True)
def _stop_lifespans() -> Iterator[None]:
    yield
    asgi.shutdown_lifespans()  # closes the store the schemathesis runs opened
    _TMP.cleanup()


@SCHEMA.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_schemathesis_finds_no_server_errors(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
