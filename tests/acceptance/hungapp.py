"""A sync task that ignores cancellation, for the hung-thread recycling test."""

from __future__ import annotations

import os
import time

import jobglass

app = jobglass.App()


@app.task(name="hung.sleep", timeout=0.3, retries=0)
def sleep_through_cancel() -> None:
    path = os.environ["JOBGLASS_TEST_TRACE"]
    with open(path, "a") as trace:
        trace.write(f"{os.getpid()}\n")
    time.sleep(3600)  # never looks at ctx.cancelled
