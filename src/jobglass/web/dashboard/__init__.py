"""The web dashboard: server-rendered pages over the same store and tokens as the API.

| path | page | needs |
|---|---|---|
| `/` | health verdict, queues, last hour's charts, workers | read |
| `/jobs` | filter by state, queue, task, request id; go to an id; keyset pages | read |
| `/jobs/{id}` | the job, every attempt with its log (tailed while it runs), relatives | read |
| `/jobs/{id}/cancel`, `/retry` | POST | write |
| `/workers` | alive and dead, with what they hold | read |
| `/queues`, `/queues/{name}` | counts, age, throughput, charts | read |
| `/queues/{name}/pause`, `/resume` | POST | admin |
| `/login`, `/logout` | the session cookie | — |

Assets (htmx, uPlot, our CSS and JS) are served from the package under `/_static`.
Pages read without JavaScript; scripts only add the charts' hover and the live tail.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from jobglass.web.dashboard import pages_fleet, pages_job, pages_jobs, pages_login, pages_overview
from jobglass.web.dashboard.render import STATIC

STATIC_DIR = Path(__file__).with_name("static")


def routes() -> list[BaseRoute]:
    """Every page, and the static assets."""
    return [*pages_overview.ROUTES, *pages_jobs.ROUTES, *pages_job.ROUTES,
            *pages_fleet.ROUTES, *pages_login.ROUTES,
            Mount(STATIC, StaticFiles(directory=STATIC_DIR), name="static")]


__all__ = ["routes"]
