"""The tasks a jobglass bench worker runs: `--app bench.peers.jobglass_app:app`."""

from __future__ import annotations

import asyncio

import jobglass
from bench.peers.base import SLEEP, send_mark

app = jobglass.App()  # the URL comes from --database-url / JOBGLASS_DATABASE_URL


@app.task(name="bench.noop", retries=0)
async def noop() -> None:
    return None


@app.task(name="bench.sleep", retries=0)
async def sleep() -> None:
    await asyncio.sleep(SLEEP)


@app.task(name="bench.mark", retries=0)
async def mark(port: int) -> None:
    send_mark(port)
