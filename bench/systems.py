"""The systems `python -m bench` runs, the workload sizes, and what one measurement
returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


# -- the systems ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class System:
    name: str  # adapter module under bench/peers/
    label: str
    storage: str  # sqlite | postgres | redis
    baseline: str  # the jobglass row its ratio is taken against
    durability: str
    ack: str
    jobglass: bool = False


SQLITE_BASE = "jobglass_sqlite"
PG_BASE = "jobglass_pg"

SYSTEMS: tuple[System, ...] = (
    System("jobglass_sqlite", "jobglass SQLite", "sqlite", SQLITE_BASE,
           "WAL, synchronous=FULL (set by URL to match Huey's default)",
           "state changes are compare-and-set on (id, state, lease); a lease the reaper "
           "takes back re-queues the job (at-least-once)", jobglass=True),
    System("jobglass_sqlite_normal", "jobglass SQLite (NORMAL)", "sqlite", SQLITE_BASE,
           "WAL, synchronous=NORMAL (jobglass's default)", "as above", jobglass=True),
    System("jobglass_pg", "jobglass PostgreSQL", "postgres", PG_BASE,
           "server defaults: fsync on, synchronous_commit on",
           "as above; LISTEN/NOTIFY wake-ups", jobglass=True),
    System("huey_sqlite", "Huey 3.5 SQLite", "sqlite", SQLITE_BASE,
           "SqliteHuey defaults: WAL, synchronous unset = SQLite's FULL",
           "dequeue deletes the row before the task runs: no ack, a crash loses it "
           "(at-most-once); consumer polls (0.1 s, backing off to 10 s when idle)"),
    System("pgqueuer_pg", "PgQueuer 1.6", "postgres", PG_BASE,
           "durability=durable (all tables logged); server fsync and synchronous_commit on",
           "row 'picked' until the entrypoint returns, then deleted+logged (buffered); "
           "stalled jobs retried after the heartbeat timeout"),
    System("procrastinate_pg", "Procrastinate 3.10", "postgres", PG_BASE,
           "server fsync and synchronous_commit on",
           "'doing' until it returns, then 'succeeded'; a dead worker's job stays 'doing' "
           "until a stalled-job retry is run"),
    System("celery_redis", "Celery 5.6 Redis", "redis", SQLITE_BASE,
           "Redis as started here: appendonly no, save \"\" (no persistence at all)",
           "task_acks_late=True: acked after the task returns (unacked hash + visibility "
           "timeout); no result backend"),
    System("rq_redis", "RQ 3.0 Redis", "redis", SQLITE_BASE,
           "Redis: no persistence (as above)",
           "job in StartedJobRegistry while it runs; a dead worker's job is marked "
           "abandoned/failed, not re-run; forks a work horse per job"),
    System("dramatiq_redis", "Dramatiq 2.2 Redis", "redis", SQLITE_BASE,
           "Redis: no persistence (as above)",
           "acked after the actor returns (message kept in the .msgs hash until then); "
           "a dead worker's unacked messages are re-queued"),
    System("arq_redis", "arq 0.28 Redis", "redis", SQLITE_BASE,
           "Redis: no persistence (as above)",
           "job deleted after completion; in-progress key expires so a dead worker's job "
           "re-runs; polls every 0.5 s (poll_delay default)"),
    System("saq_redis", "SAQ 0.26 Redis", "redis", SQLITE_BASE,
           "Redis: no persistence (as above)",
           "job in the active list until it finishes; the sweeper re-queues a dead "
           "worker's job"),
)
BY_NAME = {s.name: s for s in SYSTEMS}


# -- sizes --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sizes:
    enqueue_single: int
    enqueue_batched: int
    enqueue_deadline: float
    drain: int
    drain_deadline: float  # peers; jobglass gets drain_deadline_jobglass
    drain_deadline_jobglass: float
    latency: int
    latency_deadline: float
    sleep: int
    sleep_deadline: float
    scrape_finished: int
    scrape_rounds: int
    obs_n: int
    obs_rounds: int

    @classmethod
    def pick(cls, quick: bool) -> Sizes:
        if quick:
            return cls(1_000, 10_000, 15, 10_000, 20, 60, 100, 15, 2_000, 20,
                       100_000, 10, 5_000, 1)
        return cls(5_000, 50_000, 30, 100_000, 40, 150, 500, 30, 10_000, 45,
                   1_000_000, 30, 20_000, 3)



# -- one measurement --------------------------------------------------------------------
@dataclass(slots=True)
class Outcome:
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0



Results = dict[str, dict[str, Outcome]]  # workload -> system -> outcome
