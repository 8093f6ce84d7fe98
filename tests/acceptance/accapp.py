"""Tasks the acceptance tests run inside real `jobglass worker` processes.

Each task appends a line to $JOBGLASS_TEST_TRACE so tests can see what ran, and
how often, from outside the worker.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time

import jobglass

app = jobglass.App()


def trace(line: str) -> None:
    path = os.environ["JOBGLASS_TEST_TRACE"]
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())  # one write with O_APPEND: lines never interleave
    finally:
        os.close(fd)


@app.task(name="acc.record")
async def record(ctx: jobglass.Context, tag: str) -> str:
    trace(f"{ctx.job_id} {tag} {time.time()}")
    return tag


@app.task(name="acc.collector")
async def collector() -> list[int]:
    """How the worker process set up the cyclic garbage collector."""
    return [gc.get_threshold()[0], gc.get_freeze_count()]


@app.task(name="acc.hang_first", retries=3, backoff=0.05)
async def hang_first(ctx: jobglass.Context) -> int:
    """The first attempt never ends by itself; later ones finish at once."""
    trace(f"{ctx.job_id} attempt {ctx.attempt} pid {os.getpid()}")
    if ctx.attempt == 1:
        await asyncio.sleep(3600)
    return ctx.attempt


@app.task(name="acc.sleep")
async def sleep(ctx: jobglass.Context, seconds: float) -> float:
    trace(f"{ctx.job_id} start")
    await asyncio.sleep(seconds)
    trace(f"{ctx.job_id} end")
    return seconds


@app.task(name="acc.fail", retries=0)
def fail(ctx: jobglass.Context) -> None:
    trace(f"{ctx.job_id} fail")
    raise RuntimeError("failed on purpose")


@app.task(name="acc.chaos", retries=100, backoff=0.05, backoff_cap=0.5)
async def chaos(ctx: jobglass.Context, seconds: float) -> int:
    """A short job that survives many lost attempts: records attempt and pid, sleeps."""
    trace(f"{ctx.job_id} attempt {ctx.attempt} pid {os.getpid()}")
    await asyncio.sleep(seconds)
    return ctx.attempt
