"""Tasks the benchmark workers run, in their own process or in the bench's.

`python -m jobglass worker --app bench.tasks:app --database-url sqlite:///...`
loads `app`; its URL comes from JOBGLASS_DATABASE_URL or `--database-url`.
"""

from __future__ import annotations

import jobglass

NOOP_ASYNC = "bench.noop_async"
NOOP_SYNC = "bench.noop_sync"


def make_app(database_url: str | None = None) -> jobglass.App:
    """A fresh App with the bench tasks registered (one per benchmark and database)."""
    application = jobglass.App(database_url)

    @application.task(name=NOOP_ASYNC, retries=0)
    async def noop_async() -> None:
        return None

    @application.task(name=NOOP_SYNC, retries=0)
    def noop_sync() -> None:
        return None

    return application


app = make_app()
