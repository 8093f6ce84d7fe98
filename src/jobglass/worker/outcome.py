"""Turn how an attempt ended into the `Report` the store applies: the retry rules."""

from __future__ import annotations

import time
from typing import Any

from jobglass.app.options import TaskOptions
from jobglass.app.signals import DontRetry, Retry
from jobglass.model import Job, Outcome
from jobglass.model.backoff import backoff_delay
from jobglass.store import Report
from jobglass.worker.tracebacks import format_exception


def should_retry(exc: BaseException, options: TaskOptions | None) -> bool:
    if isinstance(exc, DontRetry):
        return False
    if isinstance(exc, Retry):
        return True
    if options is None:
        return True
    if options.dont_retry_on and isinstance(exc, options.dont_retry_on):
        return False
    return not options.retry_on or isinstance(exc, options.retry_on)


def failure_report(job: Job, exc: BaseException, outcome: Outcome,
                   options: TaskOptions | None, *, now: float | None = None) -> Report:
    """failed/timeout: queued again after backoff while budget remains, else failed."""
    errors = job.errors + 1
    retry_at = None
    if errors <= job.max_retries and should_retry(exc, options):
        delay = exc.delay if isinstance(exc, Retry) else backoff_delay(
            errors, job.backoff_base, job.backoff_cap)
        retry_at = (time.time() if now is None else now) + delay
    return Report(
        job_id=job.id, lease=job.lease or "", outcome=outcome,
        error_type=type(exc).__name__, error_message=str(exc) or type(exc).__name__,
        traceback=format_exception(exc), retry_at=retry_at)


def success_report(job: Job, result: Any) -> Report:
    return Report(job_id=job.id, lease=job.lease or "", outcome=Outcome.SUCCEEDED,
                  result=result)


def stopped_report(job: Job, outcome: Outcome, reason: str | None) -> Report:
    """cancelled or interrupted: no retry budget spent. A cancel without a reason keeps
    the one recorded when the cancel was asked for."""
    return Report(job_id=job.id, lease=job.lease or "", outcome=outcome, reason=reason)
