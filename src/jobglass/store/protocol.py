"""The one storage interface: domain verbs, no SQL. Every backend implements it and
the contract suite in `tests/integration/test_store_contract.py` runs against each.

Rules every backend keeps:
- Every state change is a compare-and-set in SQL. Updates of a running job name
  (id, state='running', lease); a report carrying an old lease changes nothing and
  is returned as not applied, so a reaped or cancelled job is never completed by
  the worker that lost it.
- The `WHERE state IN (...)` of each update comes from `model.sources_of`.
- Gauges (`queue_stats`) count active states only, through partial indexes, so
  their cost does not grow with finished history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from jobglass.model import (
    Attempt,
    Job,
    JobSpec,
    JobState,
    LogLine,
    Outcome,
    QueueStats,
    WorkerInfo,
)
from jobglass.model.access import ApiToken, Scope
from jobglass.model.health import HealthSample, Suspect, Throughput
from jobglass.model.job import JSONValue
from jobglass.model.stats import MinuteStats


@dataclass(slots=True)
class Report:
    """What a worker says about one attempt it ran.

    `retry_at` set: the job goes back to `queued` with that `run_at` (a retry).
    Otherwise the job ends by outcome: succeeded -> succeeded; failed/timeout ->
    failed; cancelled -> cancelled; interrupted -> queued now, not counted
    against retries. failed/timeout/lost spend one retry (`errors += 1`).
    """

    job_id: int
    lease: str
    outcome: Outcome
    result: JSONValue = None
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    retry_at: float | None = None
    reason: str | None = None  # cancel reason


@dataclass(slots=True)
class Progress:
    job_id: int
    lease: str
    done: float | None
    total: float | None
    message: str | None


@dataclass(slots=True)
class Reaped:
    """One running job the reaper took back from a dead worker."""

    job: Job  # as it is after the reap (queued for a retry, or failed)
    attempt: Attempt  # the lost attempt, with its evidence
    requeued: bool


@dataclass(slots=True)
class JobFilter:
    states: Sequence[JobState] = ()
    queue: str | None = None
    task: str | None = None
    request_id: str | None = None
    created_after: float | None = None
    created_before: float | None = None
    above_id: int | None = None  # only ids > this: bounds a scan (the dashboard's windows)


@dataclass(slots=True)
class Page:
    jobs: list[Job]
    next_cursor: int | None  # pass as `before_id` to get the next (older) page


@dataclass(slots=True)
class HeartbeatReply:
    cancel: list[int] = field(default_factory=list)  # running jobs whose cancel was asked
    lost: list[int] = field(default_factory=list)  # jobs this worker no longer holds
    # Jobs the store says this worker runs that it did not list: (id, lease, started_at).
    # A claim whose reply never arrived (connection cut after the commit) leaves these.
    unlisted: list[tuple[int, str, float]] = field(default_factory=list)


class DirectEnqueue(Protocol):
    """Enqueue from the calling thread with no event loop: the sync API's fast path,
    for stores that have one. The schema must already exist (the App opens the store
    through its loop first)."""

    def takes(self, specs: Sequence[JobSpec]) -> bool:
        """Whether this path stores these specs (else the App uses the store)."""
        ...

    def enqueue_many(self, specs: Sequence[JobSpec], *, now: float | None = None
                     ) -> list[Job]: ...

    def close(self) -> None: ...


class Store(Protocol):
    """Async domain verbs over one database."""

    url: str

    async def open(self) -> None:
        """Connect, and bring the schema up to date when `migrate` is true (default)."""

    async def close(self) -> None: ...

    async def migrate(self) -> list[int]:
        """Apply pending numbered migrations; return the versions applied."""

    async def schema_version(self) -> int: ...

    async def ping(self) -> None:
        """Raise `StoreUnavailable` unless the database answers a trivial query."""

    # -- producers -------------------------------------------------------------
    async def enqueue_many(self, specs: Sequence[JobSpec], *, now: float | None = None
                           ) -> list[Job]:
        """Store the jobs in one transaction; all or nothing.

        A spec whose `unique_key` is held by an active job yields that job instead
        of a new one. `depends_on` naming a missing job raises `UnknownParent` and
        stores nothing. A job whose parents have not all succeeded starts
        `blocked`; one with a failed or cancelled parent starts `cancelled`.
        """

    # -- workers ---------------------------------------------------------------
    async def register_worker(self, worker: WorkerInfo) -> None: ...

    async def claim(self, worker_id: str, queues: Sequence[str], limit: int, *,
                    allow_shell: bool = False, now: float | None = None) -> list[Job]:
        """Move up to `limit` ready jobs (queued, run_at <= now, queue not paused)
        to running, highest priority first then oldest run_at, each with a fresh
        lease and a new attempt row. Empty `queues` means every queue."""

    async def heartbeat(self, worker_id: str, running: Sequence[Progress], *,
                        now: float | None = None) -> HeartbeatReply:
        """Record the worker alive and the progress of its running jobs."""

    async def finish_many(self, reports: Sequence[Report], *, now: float | None = None
                          ) -> list[bool]:
        """Apply each report if its lease still holds; True where applied."""

    async def stop_worker(self, worker_id: str, *, now: float | None = None) -> None: ...

    # -- maintenance -----------------------------------------------------------
    async def reap(self, lease_seconds: float, *, now: float | None = None) -> list[Reaped]:
        """Workers silent for longer than their own lease (`lease_seconds` for a worker
        that declared none, or a job whose worker row is gone) are marked dead; their
        running jobs end the attempt `lost` with evidence and are retried (after
        backoff) or failed by their retry budget. Safe when two reapers race."""

    async def try_lead(self, holder: str) -> bool:
        """True while `holder` (a worker id) is the one maintenance leader.

        PostgreSQL: a session advisory lock held on a dedicated connection; when
        that process dies another takes over. SQLite: always True (one machine;
        the reaper is safe when several run).
        """

    async def prune(self, older_than: float) -> int:
        """Delete terminal jobs finished before `older_than`; return how many."""

    # -- people ----------------------------------------------------------------
    async def cancel(self, job_id: int, reason: str = "cancelled by request", *,
                     now: float | None = None) -> Job:
        """blocked/queued: cancelled at once (dependents too). running: cancel is
        requested and the worker ends it. Terminal: `IllegalTransition`."""

    async def retry(self, job_id: int, *, now: float | None = None) -> Job:
        """failed/cancelled -> queued with a fresh retry budget."""

    async def set_paused(self, queue: str, paused: bool) -> None: ...

    # -- reading ---------------------------------------------------------------
    async def get(self, job_id: int) -> Job: ...

    async def attempts(self, job_id: int) -> list[Attempt]: ...

    async def children(self, job_id: int) -> list[int]:
        """Ids of the jobs that depend on `job_id`, ascending (empty when none, or when
        there is no such job)."""

    async def list_jobs(self, flt: JobFilter | None = None, *, limit: int = 50,
                        before_id: int | None = None) -> Page:
        """Newest first, keyset-paginated on id."""

    async def queue_stats(self, *, now: float | None = None) -> list[QueueStats]: ...

    async def workers(self) -> list[WorkerInfo]: ...

    # -- stored job logs -----------------------------------------------------------
    async def append_logs(self, lines: Sequence[LogLine]) -> None:
        """Store log lines (any jobs, any attempts) in one transaction."""

    async def read_logs(self, job_id: int, *, attempt: int | None = None, after_id: int = 0,
                        limit: int = 1000) -> list[LogLine]:
        """Lines of a job (one attempt, or all), oldest first, with id > `after_id`."""

    # -- per-minute figures (charts) ------------------------------------------------
    async def record_stats(self, rows: Sequence[MinuteStats]) -> None:
        """Add these counts to the stored (minute, queue) rows, creating them as needed."""

    async def read_stats(self, since: float, *, queue: str | None = None
                         ) -> list[MinuteStats]:
        """Rows from the minute holding `since` on, oldest first."""

    async def wait_for_jobs(self, timeout: float) -> None:
        """Return when new work may be ready, or after `timeout` seconds."""

    # -- API tokens (stored as SHA-256 hashes, never the secret) ----------------------
    async def create_token(self, name: str, scope: Scope, token_hash: str, *,
                           now: float | None = None) -> ApiToken:
        """Store a token; `ConfigError` when an active token already has that name."""

    async def list_tokens(self) -> list[ApiToken]:
        """Every token, revoked ones too, oldest first."""

    async def revoke_token(self, name: str, *, now: float | None = None) -> bool:
        """Revoke the active token called `name`; False when there is none."""

    async def token_by_hash(self, token_hash: str, *, now: float | None = None
                            ) -> ApiToken | None:
        """The active token with that hash (its `last_used_at` refreshed at most once
        a minute), or None."""

    async def has_tokens(self) -> bool:
        """True when at least one token is active: the API then requires one."""

    # -- health sampling (cost bounded by active jobs and the window) ------------------
    async def throughput(self, window: float, *, now: float | None = None
                         ) -> list[Throughput]:
        """Per queue: jobs that ended (succeeded, failed, cancelled) in the last `window` s."""

    async def health_sample(self, *, silent_after: float, window: float,
                            now: float | None = None, limit: int = 100) -> HealthSample:
        """Queue stats, throughput over `window`, the newest finish, and up to `limit`
        suspects: running jobs past their timeout, or whose worker is dead, stopped,
        missing, or silent for longer than `silent_after` seconds."""

    async def suspects(self, *, silent_after: float, now: float | None = None,
                       limit: int = 100) -> list[Suspect]:
        """`health_sample`'s suspects alone (the stuck-jobs gauge reads them each
        scrape): running jobs only, oldest start first."""

