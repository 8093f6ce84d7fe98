"""`/`: the health verdict and its reasons, every queue's counts, age, throughput and
failure rate, the last hour's charts, and the workers alive and dead."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jobglass.web.dashboard import views
from jobglass.web.dashboard.access import page, render
from jobglass.web.settings import web_state


@page()
async def overview(request: Request) -> Response:
    state = web_state(request)
    store = await state.store()
    found = await views.overview(store, state.settings.thresholds, state.watch)
    return render(request, "overview.html", {"nav": "overview", "o": found,
                                             "window": state.settings.thresholds.window})


ROUTES = [Route("/", overview, methods=["GET"])]
