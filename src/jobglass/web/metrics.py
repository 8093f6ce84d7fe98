"""`GET /metrics` on the API server: the observability slice's exporter, with the
store gauges sampled at scrape time from the server's own store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from jobglass.app import App
from jobglass.observe.exporter import MetricsExporter
from jobglass.store import Store


def endpoint(exporter: MetricsExporter, app: App) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        store: Store | None
        try:
            store = await app.astore()
        except Exception:  # the exporter reports jobglass_store_up 0 for a store it cannot read
            store = None
        body, content_type = await exporter.render(store, request.headers.get("accept"))
        return Response(body, headers={"Content-Type": content_type})

    return metrics
