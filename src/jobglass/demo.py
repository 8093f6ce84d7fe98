"""`jobglass up --demo`: tasks and a producer that show every path a job can take."""

from __future__ import annotations

import asyncio
import logging
import random

from jobglass.app import App, Context, EnqueueOptions
from jobglass.worker import Worker

app = App()
log = logging.getLogger("jobglass.demo")


@app.task(name="demo.send_email", queue="emails")
async def send_email(to: str) -> dict[str, str]:
    await asyncio.sleep(random.uniform(0.01, 0.1))
    return {"sent_to": to}


@app.task(name="demo.flaky_fetch", retries=3, backoff=1.0)
def flaky_fetch(ctx: Context, url: str) -> str:
    if ctx.attempt == 1:
        raise ConnectionError(f"{url} timed out (the demo fails every first attempt)")
    return f"fetched {url} on attempt {ctx.attempt}"


@app.task(name="demo.build_report", queue="reports", timeout=60)
async def build_report(ctx: Context, pages: int) -> int:
    for page in range(1, pages + 1):
        await asyncio.sleep(0.3)
        ctx.progress(page, pages, f"page {page} of {pages}")
    return pages


@app.task(name="demo.always_fails", retries=1, backoff=0.5)
def always_fails() -> None:
    raise ValueError("this job fails on purpose, so you can read its traceback")


async def produce(worker: Worker) -> None:
    """Every two seconds: a few emails, a flaky fetch, and sometimes a report chain
    (fetch -> build -> email) or a job that fails for good."""
    round_ = 0
    while not worker.stopping:
        round_ += 1
        for n in range(3):
            await send_email.aenqueue(to=f"user{round_}-{n}@example.com")
        await flaky_fetch.aenqueue(url=f"https://example.com/prices/{round_}")
        if round_ % 3 == 1:
            fetch = await flaky_fetch.aenqueue(url=f"https://example.com/report/{round_}")
            report = await app.aenqueue("demo.build_report", pages=5,
                                        options=EnqueueOptions(depends_on=(fetch.id,)))
            await app.aenqueue("demo.send_email", to="boss@example.com",
                               options=EnqueueOptions(depends_on=(report.id,)))
        if round_ % 5 == 0:
            await always_fails.aenqueue()
        await asyncio.sleep(2.0)
