"""The hot path: claiming a batch and applying a batch of reports.

A claim is one statement: pick with `FOR UPDATE SKIP LOCKED` through the
partial ready index (the `jobglass_pick_ready` function), move to running,
insert the attempt rows. A batch of
reports is one transaction: one compare-and-set update of every job on
(id, state, lease), its attempts and worker counters in the same statement,
then the dependents of the jobs that ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from jobglass.model import Job, JobState, check_transition, sources_of
from jobglass.store.codec import dumps
from jobglass.store.postgres import arrays, graph
from jobglass.store.postgres.rows import fetch, fetch_jobs, job_columns
from jobglass.store.protocol import Report
from jobglass.store.rules import spends_retry, target_state

Conn = AsyncConnection[Any]
# A report moves a running job, and only a running job: checked against the table.
_FROM = JobState.RUNNING
for _target in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.QUEUED):
    check_transition(_FROM, _target)
_CLAIMABLE = [s.value for s in sources_of(JobState.RUNNING)]


async def claim(conn: Conn, s: str, worker_id: str, queues: Sequence[str], limit: int,
                allow_shell: bool, lease: str, now: float) -> list[Job]:
    jobs = await fetch_jobs(
        conn,
        # The pick walks the partial ready index in claim order (see 0002_pick_ready.sql);
        # the update re-checks the state, a compare-and-set on rows we have locked.
        # = ANY(ARRAY(...)): the planner cannot size a set-returning function and would
        # hash-join the whole table; an id array is looked up through the primary key.
        f"WITH claimed AS (UPDATE {s}.jobglass_jobs j SET state = 'running',"
        "  attempt = j.attempt + 1, lease = %(lease)s, worker_id = %(worker)s,"
        "  started_at = %(now)s, cancel_requested = false, progress_done = NULL,"
        "  progress_total = NULL, progress_message = NULL"
        f"  WHERE j.id = ANY(ARRAY(SELECT {s}.jobglass_pick_ready(%(now)s, %(queues)s::text[],"
        # The state check is a compare-and-set the planner cannot turn into a scan of
        # the partial ready index (with stale statistics it would): ids go by the key.
        f"   %(limit)s, %(shell)s))) AND j.state IN (SELECT unnest(%(claimable)s::text[]))"
        "  RETURNING j.*),"
        f" attempts AS (INSERT INTO {s}.jobglass_attempts"
        "  (job_id, number, worker_id, lease, started_at, ready_at)"
        "  SELECT id, attempt, %(worker)s, %(lease)s, %(now)s, run_at FROM claimed)"
        f" SELECT {job_columns(s, 'claimed')} FROM claimed",
        {"now": float(now), "queues": list(queues), "limit": limit, "lease": lease,
         "worker": worker_id, "shell": allow_shell, "claimable": _CLAIMABLE})
    jobs.sort(key=lambda j: (-j.priority, j.run_at, j.id))
    return jobs


# Reports per statement. Before the table's first ANALYZE the planner joins the
# reports to the jobs by nested loops, so a statement costs the square of its size:
# 400 reports took 50 ms, 100 take ~2 ms.
ROUND_MAX = 100


def one_statement(reports: Sequence[Report]) -> bool:
    """True when `finish` is a single statement (so needs no transaction of its own):
    every report ends its job succeeded, and no job is named twice."""
    return (len(reports) <= ROUND_MAX
            and all(target_state(r) is JobState.SUCCEEDED for r in reports)
            and len({r.job_id for r in reports}) == len(reports))


async def finish(conn: Conn, s: str, channel: str, reports: Sequence[Report], now: float
                 ) -> tuple[list[bool], list[str]]:
    """Apply the reports; return which applied and the queues that got ready work and
    still need a NOTIFY (children released by successes are notified in-statement).

    A job named twice in one batch is applied in report order, as one round each,
    so the second report meets the lease the first left behind. A round is one
    statement (jobs, attempts, worker counters, released children and their NOTIFY),
    plus one more when some job ended failed or cancelled: its dependents.
    """
    applied = [False] * len(reports)
    woken: set[str] = set()
    remaining = list(range(len(reports)))
    while remaining:
        seen: set[int] = set()
        round_: list[int] = []
        later: list[int] = []
        for i in remaining:
            (later if reports[i].job_id in seen else round_).append(i)
            seen.add(reports[i].job_id)
        for start in range(0, len(round_), ROUND_MAX):
            chunk = round_[start:start + ROUND_MAX]
            woken.update(await _finish_round(conn, s, channel, reports, chunk, applied, now))
        remaining = later
    return applied, sorted(woken)


async def _finish_round(conn: Conn, s: str, channel: str, reports: Sequence[Report],
                        indexes: list[int], applied: list[bool], now: float) -> set[str]:
    batch = [reports[i] for i in indexes]
    targets = [target_state(r) for r in batch]
    rows = await fetch(
        conn,
        "WITH r AS (SELECT * FROM unnest(%(ids)s::bigint[], %(leases)s::text[],"
        "  %(targets)s::text[], %(run_at)s::float8[], %(spent)s::int[], %(results)s::text[],"
        "  %(errors)s::text[], %(reasons)s::text[], %(outcomes)s::text[], %(etypes)s::text[],"
        "  %(tbs)s::text[]) AS r(id, lease, target, run_at, spent, result, error, reason,"
        "  outcome, etype, tb)),"
        # A job someone asked to cancel is not put back in line: it ends cancelled.
        # (Read from the locked row itself, so a concurrent cancel() is seen.)
        f" moved AS (UPDATE {s}.jobglass_jobs j SET lease = NULL,"
        "  state = CASE WHEN r.target = 'queued' AND j.cancel_requested THEN 'cancelled'"
        "   ELSE r.target END,"
        "  errors = j.errors + r.spent,"
        "  run_at = CASE WHEN r.target = 'queued' AND NOT j.cancel_requested THEN r.run_at"
        "   ELSE j.run_at END,"
        "  finished_at = CASE WHEN r.target = 'queued' AND NOT j.cancel_requested THEN NULL"
        "   ELSE %(now)s END,"
        "  result = CASE WHEN r.target = 'succeeded' THEN r.result ELSE j.result END,"
        "  error = CASE WHEN r.target = 'succeeded' THEN j.error"
        "   ELSE COALESCE(r.error, j.error) END,"
        # A cancel report without a reason keeps the one `cancel()` recorded.
        "  reason = CASE r.target WHEN 'failed' THEN r.reason"
        "   WHEN 'cancelled' THEN COALESCE(r.reason, j.reason) ELSE j.reason END"
        # The jobs are found by primary key (id = ANY), never through the partial
        # running index: with statistics from a quiet moment the planner would scan
        # every running job (and their dead index entries) for each batch. Hence
        # the state check the index predicate cannot match, as in the claim.
        "  FROM r WHERE j.id = ANY(%(ids)s::bigint[]) AND j.id = r.id"
        "  AND j.state IN (SELECT unnest(%(from)s::text[]))"
        "  AND j.lease = r.lease RETURNING j.id, j.queue, j.state, j.attempt, r.lease),"
        # Attempts by their primary key too: never analysed, the table would be scanned
        # whole for every batch (50 ms a batch at 40,000 attempts).
        f" ended AS (UPDATE {s}.jobglass_attempts a SET ended_at = %(now)s,"
        "  outcome = r.outcome, error_type = r.etype, error_message = r.error,"
        "  traceback = r.tb FROM moved JOIN r ON r.id = moved.id AND r.lease = moved.lease"
        "  WHERE a.job_id = ANY(%(ids)s::bigint[]) AND a.job_id = moved.id"
        "  AND a.number = moved.attempt AND a.lease = moved.lease RETURNING a.worker_id),"
        f" counted AS (UPDATE {s}.jobglass_workers w SET jobs_done = w.jobs_done + c.n"
        "  FROM (SELECT worker_id, COUNT(*) AS n FROM ended GROUP BY worker_id) c"
        "  WHERE w.id = c.worker_id),"
        # Children whose last parent just succeeded become queued, and their queues
        # are notified (at commit), in this same statement.
        " released AS ("
        + graph.release_sql(s, "SELECT id FROM moved WHERE state = 'succeeded'") + "),"
        " notified AS (SELECT pg_notify(%(channel)s, q) FROM"
        "  (SELECT DISTINCT queue AS q FROM released WHERE state = 'queued') x)"
        " SELECT id, queue, state FROM moved"
        " UNION ALL SELECT NULL, NULL, NULL FROM notified",
        {
            "ids": arrays.ints([r.job_id for r in batch]),
            "leases": arrays.texts([r.lease for r in batch]),
            "targets": arrays.texts([t.value for t in targets]),
            "run_at": arrays.floats([r.retry_at if r.retry_at is not None else now
                                     for r in batch]),
            "spent": arrays.ints([1 if spends_retry(r.outcome) else 0 for r in batch]),
            "results": arrays.texts([dumps_result(r) for r in batch]),
            "errors": _or_null([r.error_message for r in batch]),
            "reasons": _or_null([r.reason for r in batch]),
            "outcomes": arrays.texts([r.outcome.value for r in batch]),
            "etypes": _or_null([r.error_type for r in batch]),
            "tbs": _or_null([r.traceback for r in batch]),
            "now": float(now), "from": [_FROM.value], "channel": channel,
        })
    done = {r["id"]: (r["queue"], JobState(r["state"])) for r in rows if r["id"] is not None}
    woken: set[str] = set()
    ended: list[tuple[int, str]] = []
    for i, report in zip(indexes, batch, strict=True):
        if report.job_id not in done:
            continue
        applied[i] = True
        queue, target = done[report.job_id]
        if target is JobState.QUEUED:
            woken.add(queue)
        elif target is not JobState.SUCCEEDED:
            ended.append((report.job_id, f"parent job {report.job_id} {target}"))
    # A child of a failed and a succeeded parent stays blocked through the release
    # (the failed one still counts as pending), so either order ends it cancelled.
    await graph.cancel_dependents(conn, s, ended, now)
    return woken


def _or_null(values: list[str | None]) -> str | None:
    """NULL for a column that is NULL in every report (the usual case for errors of a
    batch of successes): unnest pads it with NULLs, and nothing is encoded."""
    return arrays.texts(values) if any(v is not None for v in values) else None


def dumps_result(report: Report) -> str | None:
    return dumps(report.result) if target_state(report) is JobState.SUCCEEDED else None
