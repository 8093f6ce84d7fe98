"""The health verdict: pure functions from one store sample and thresholds.

`GET /api/health`, `jobglass health` and the dashboard all call `assess` (or
`verdict` on a sample they already hold), so they can never disagree.

| check | breached when (threshold) | status |
|---|---|---|
| store | the store does not answer a trivial query | failing |
| stuck_jobs | running past timeout+`timeout_grace`, or worker silent `stale_heartbeat` | degraded |
| dead_workers | a worker gone or silent `worker_dead_after` still holds jobs | failing |
| no_progress | ready jobs waited `no_progress_after`, nothing finished meanwhile | failing |
| oldest_ready | a queue's oldest ready job waited past `oldest_ready[.QUEUE]` | degraded |
| failure_rate | failed/finished over `window` above `failure_rate` | degraded |

(Seconds throughout; `failure_rate` needs `failure_min_jobs` finished jobs.)
Paused queues are left out of `no_progress` and `oldest_ready`: waiting is what
they were asked to do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from jobglass.model.health import HealthSample, Suspect
from jobglass.model.job import stretched
from jobglass.store import Store


class Status(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    FAILING = "failing"
    UNKNOWN = "unknown"  # a check that could not be sampled (the store is down)


_SEVERITY = {Status.OK: 0, Status.UNKNOWN: 0, Status.DEGRADED: 1, Status.FAILING: 2}


@dataclass(frozen=True, slots=True)
class Thresholds:
    stale_heartbeat: float = 15.0
    timeout_grace: float = 5.0
    worker_dead_after: float = 30.0
    no_progress_after: float = 120.0
    oldest_ready: float = 300.0
    queue_oldest_ready: Mapping[str, float] = field(default_factory=dict)
    failure_rate: float = 0.5
    failure_min_jobs: int = 10
    window: float = 300.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and (not math.isfinite(value) or value < 0):
                raise ValueError(f"health threshold {f.name} must be a number >= 0")
        if self.window <= 0:
            raise ValueError("health threshold window must be > 0")

    @property
    def silent_after(self) -> float:
        """The store returns every running job whose worker is silent at least this long."""
        return min(self.stale_heartbeat, self.worker_dead_after)

    def limit_for(self, queue: str) -> float:
        return self.queue_oldest_ready.get(queue, self.oldest_ready)

    def with_overrides(self, pairs: Mapping[str, str]) -> Thresholds:
        """`{"no_progress_after": "60", "oldest_ready.emails": "30"}` -> new thresholds."""
        changes: dict[str, Any] = {}
        per_queue = dict(self.queue_oldest_ready)
        names = {f.name for f in dataclasses.fields(self)} - {"queue_oldest_ready"}
        for key, raw in pairs.items():
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"health threshold {key} must be a number, not {raw!r}") from None
            if key.startswith("oldest_ready."):
                per_queue[key.split(".", 1)[1]] = value
            elif key in names:
                changes[key] = int(value) if key == "failure_min_jobs" else value
            else:
                known = ", ".join(sorted(names))
                raise ValueError(f"unknown health threshold {key!r} (known: {known},"
                                 " oldest_ready.QUEUE)")
        return dataclasses.replace(self, queue_oldest_ready=per_queue, **changes)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    observed: float | None
    threshold: float | None
    message: str
    jobs: tuple[int, ...] = ()
    queues: tuple[str, ...] = ()
    workers: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "observed": self.observed,
                "threshold": self.threshold, "message": self.message, "jobs": list(self.jobs),
                "queues": list(self.queues), "workers": list(self.workers)}


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    checks: tuple[Check, ...]
    sampled_at: float

    @property
    def failing(self) -> bool:
        return self.status is Status.FAILING

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "sampled_at": self.sampled_at,
                "checks": [c.as_dict() for c in self.checks]}


CHECK_NAMES = ("store", "stuck_jobs", "dead_workers", "no_progress", "oldest_ready",
               "failure_rate")


def _r(value: float) -> float:
    return round(value, 3)


def check_store(error: str | None, since: float | None, now: float) -> Check:
    if error is None:
        return Check("store", Status.OK, 0.0, 0.0, "the store answers")
    down = 0.0 if since is None else max(0.0, now - since)
    return Check("store", Status.FAILING, _r(down), 0.0,
                 f"the store is unreachable (for {down:.1f}s): {error}")


def _silence(s: Suspect, now: float) -> float | None:
    return None if s.last_heartbeat is None else now - s.last_heartbeat


def _worker_gone(s: Suspect, now: float, after: float) -> bool:
    """Gone, stopped, dead, or silent longer than `after` stretched to its own lease."""
    if s.worker_state is None or s.worker_state in ("dead", "stopped"):
        return True
    silence = _silence(s, now)
    return silence is not None and silence > stretched(after, s.lease)


class Stuck(StrEnum):
    """Why a running job counts as stuck (the `reason` label of jobglass_jobs_stuck)."""

    PAST_TIMEOUT = "past_timeout"
    WORKER_SILENT = "worker_silent"  # its worker is silent, dead, stopped or gone


def _past_timeout(s: Suspect, now: float) -> float | None:
    return None if s.timeout is None or s.started_at is None else now - s.started_at - s.timeout


def stuck_reason(s: Suspect, now: float, t: Thresholds) -> Stuck | None:
    """The stuck_jobs check's rule for one suspect; the metrics gauge counts by it too."""
    over = _past_timeout(s, now)
    if over is not None and over > t.timeout_grace:
        return Stuck.PAST_TIMEOUT
    if _worker_gone(s, now, t.stale_heartbeat):
        return Stuck.WORKER_SILENT
    return None


def check_stuck(sample: HealthSample, t: Thresholds) -> Check:
    reasons: list[str] = []
    jobs: list[int] = []
    workers: list[str] = []
    for s in sample.suspects:
        why = stuck_reason(s, sample.now, t)
        if why is Stuck.PAST_TIMEOUT:
            over = _past_timeout(s, sample.now) or 0.0
            reasons.append(f"job {s.job_id} ({s.task}) is {over:.1f}s past its {s.timeout:g}s"
                           " timeout")
        elif why is Stuck.WORKER_SILENT:
            who = s.worker_id or "no worker"
            silence = _silence(s, sample.now)
            state = "gone" if s.worker_state is None else (
                s.worker_state if s.worker_state != "running" else f"silent {silence or 0:.1f}s")
            reasons.append(f"job {s.job_id} ({s.task}): its worker {who} is {state}")
        else:
            continue
        jobs.append(s.job_id)
        if s.worker_id and s.worker_id not in workers:
            workers.append(s.worker_id)
    if not jobs:
        return Check("stuck_jobs", Status.OK, 0, 0, "no running job is past its timeout or"
                     " has a silent worker")
    return Check("stuck_jobs", Status.DEGRADED, len(jobs), 0,
                 f"{len(jobs)} stuck: " + "; ".join(reasons[:10]), jobs=tuple(jobs),
                 workers=tuple(workers))


def check_dead_workers(sample: HealthSample, t: Thresholds) -> Check:
    held: dict[str, list[int]] = {}
    detail: dict[str, str] = {}
    for s in sample.suspects:
        if not _worker_gone(s, sample.now, t.worker_dead_after):
            continue
        who = s.worker_id or "(none)"
        held.setdefault(who, []).append(s.job_id)
        silence = _silence(s, sample.now)
        where = f" on {s.host} pid {s.pid}" if s.host else ""
        state = "without a worker row" if s.worker_state is None else (
            f"{s.worker_state}{where}, silent {silence or 0:.1f}s")
        detail[who] = state
    if not held:
        return Check("dead_workers", Status.OK, 0, 0, "no dead worker holds a running job")
    parts = [f"worker {w} {detail[w]} holds jobs {', '.join(map(str, ids))}"
             for w, ids in held.items()]
    jobs = tuple(j for ids in held.values() for j in ids)
    return Check("dead_workers", Status.FAILING, len(held), 0,
                 "; ".join(parts) + " (no reaper has taken them back)", jobs=jobs,
                 workers=tuple(w for w in held if w != "(none)"))


def check_no_progress(sample: HealthSample, t: Thresholds) -> Check:
    waiting = {q.queue: q.oldest_ready_age for q in sample.queues
               if not q.paused and q.oldest_ready_age is not None}
    if not waiting:
        return Check("no_progress", Status.OK, 0.0, t.no_progress_after, "no job waits")
    oldest = max(a for a in waiting.values() if a is not None)
    since = math.inf if sample.last_finished_at is None else sample.now - sample.last_finished_at
    stalled = min(oldest, since)
    if stalled <= t.no_progress_after:
        return Check("no_progress", Status.OK, _r(stalled), t.no_progress_after,
                     "jobs are finishing")
    queues = tuple(sorted(q for q, age in waiting.items()
                          if age is not None and age > t.no_progress_after))
    last = "no job has ever finished" if sample.last_finished_at is None else (
        f"the last job finished {since:.1f}s ago")
    return Check("no_progress", Status.FAILING, _r(stalled), t.no_progress_after,
                 f"ready jobs have waited up to {oldest:.1f}s in {', '.join(queues)} and {last}:"
                 " are any workers running for these queues?", queues=queues)


def check_oldest_ready(sample: HealthSample, t: Thresholds) -> Check:
    over: list[str] = []
    worst = 0.0
    for q in sample.queues:
        if q.paused or q.oldest_ready_age is None:
            continue
        worst = max(worst, q.oldest_ready_age)
        if q.oldest_ready_age > t.limit_for(q.queue):
            over.append(f"{q.queue} ({q.oldest_ready_age:.1f}s > {t.limit_for(q.queue):g}s)")
    if not over:
        return Check("oldest_ready", Status.OK, _r(worst), t.oldest_ready,
                     "every queue's oldest ready job is within its limit")
    return Check("oldest_ready", Status.DEGRADED, _r(worst), t.oldest_ready,
                 "oldest ready job over its limit in " + ", ".join(over),
                 queues=tuple(o.split(" ", 1)[0] for o in over))


def check_failure_rate(sample: HealthSample, t: Thresholds) -> Check:
    over: list[str] = []
    worst = 0.0
    for q in sample.throughput:
        rate = q.failure_rate
        if rate is None or q.finished < t.failure_min_jobs:
            continue
        worst = max(worst, rate)
        if rate > t.failure_rate:
            over.append(f"{q.queue} ({q.failed}/{q.finished} failed)")
    if not over:
        return Check("failure_rate", Status.OK, _r(worst), t.failure_rate,
                     f"failure rate within {t.failure_rate:g} over the last {t.window:g}s")
    return Check("failure_rate", Status.DEGRADED, _r(worst), t.failure_rate,
                 f"over the last {t.window:g}s: " + ", ".join(over),
                 queues=tuple(o.split(" ", 1)[0] for o in over))


def verdict(sample: HealthSample | None, t: Thresholds, store: Check) -> Verdict:
    """Combine the checks; the worst status wins. No sample: the others are unknown."""
    now = sample.now if sample is not None else time.time()
    if sample is None:
        checks = [store, *(Check(n, Status.UNKNOWN, None, None,
                                 "not sampled: the store is unreachable")
                           for n in CHECK_NAMES[1:])]
    else:
        checks = [store, check_stuck(sample, t), check_dead_workers(sample, t),
                  check_no_progress(sample, t), check_oldest_ready(sample, t),
                  check_failure_rate(sample, t)]
    worst = max((c.status for c in checks), key=lambda s: _SEVERITY[s])
    status = Status.OK if worst is Status.UNKNOWN else worst
    return Verdict(status, tuple(checks), now)


class StoreWatch:
    """Remembers since when the store has been unreachable, across samples."""

    def __init__(self) -> None:
        self.down_since: float | None = None

    def seen(self, ok: bool, now: float) -> float | None:
        if ok:
            self.down_since = None
        elif self.down_since is None:
            self.down_since = now
        return self.down_since


async def assess(store: Store | None, t: Thresholds, *, watch: StoreWatch | None = None,
                 error: str | None = None, timeout: float = 5.0) -> Verdict:
    """Ping and sample `store` (None: it could not even be opened, because `error`)."""
    watch = watch or StoreWatch()
    now = time.time()
    sample: HealthSample | None = None
    if store is not None:
        try:
            await asyncio.wait_for(store.ping(), timeout)
            sample = await asyncio.wait_for(
                store.health_sample(silent_after=t.silent_after, window=t.window, now=now),
                timeout)
        except Exception as exc:
            error = str(exc) or type(exc).__name__
    elif error is None:
        error = "the store is not open"
    since = watch.seen(sample is not None, now)
    return verdict(sample, t, check_store(None if sample is not None else error, since, now))
