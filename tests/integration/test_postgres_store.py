"""PostgreSQL-only behaviour: what the shared contract suite cannot see.

Schema equality of the two install paths, NOTIFY wake-ups, transactional enqueue,
unique keys under concurrency, the advisory-lock leader, surviving terminated
connections, and concurrent claims from several stores. Each test has a schema
of its own (see `pg.py`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from pg import PG_URL, new_schema_name, postgres_schema, with_params

from jobglass.model import (
    ConfigError,
    JobKind,
    JobNotFound,
    JobSpec,
    JobState,
    Outcome,
    StoreUnavailable,
)
from jobglass.store import Report, store_from_url
from jobglass.store.migrations import load_migrations
from jobglass.store.postgres import PostgresStore, reads
from jobglass.store.postgres.config import parse_url
from jobglass.store.postgres.enqueue import COLUMN_DEFAULTS
from jobglass.store.postgres.schema import apply_schema

pytestmark = pytest.mark.postgres

T0 = 1_700_000_000.0


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with postgres_schema() as fresh:
        yield fresh


@asynccontextmanager
async def opened(url: str) -> AsyncIterator[PostgresStore]:
    store = PostgresStore(url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def raw() -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
        yield conn


async def scalar(sql: str, params: tuple[Any, ...] = ()) -> Any:
    async with raw() as conn:
        row = await (await conn.execute(sql, params)).fetchone()
        assert row is not None
        return row[0]


# -- configuration -------------------------------------------------------------------


def test_url_parameters_of_jobglass_do_not_reach_libpq() -> None:
    config = parse_url("postgresql://u@h:5/db?schema=tenant_1&sslmode=disable&pool_max=3")
    assert config.schema == "tenant_1"
    assert config.pool_max == 3
    assert config.conninfo == "postgresql://u@h:5/db?sslmode=disable"
    assert parse_url("postgres://h/db").schema == "jobglass"
    assert isinstance(store_from_url("postgresql://h/db"), PostgresStore)


@pytest.mark.parametrize("schema", ["Jobs", "a-b", "x;drop", "a" * 60, ""])
def test_bad_schema_names_are_refused(schema: str) -> None:
    with pytest.raises(ConfigError):
        parse_url(f"postgresql://h/db?schema={schema}")


# -- schema ----------------------------------------------------------------------------


async def _describe(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    async with raw() as conn:
        columns = await (await conn.execute(
            "SELECT table_name, column_name, ordinal_position, data_type, is_nullable,"
            " replace(column_default, %s, 'S') FROM information_schema.columns"
            " WHERE table_schema = %s ORDER BY 1, 3", (schema + ".", schema))).fetchall()
        indexes = await (await conn.execute(
            "SELECT indexname, replace(indexdef, %s, 'S') FROM pg_indexes"
            " WHERE schemaname = %s ORDER BY 1", (schema + ".", schema))).fetchall()
        constraints = await (await conn.execute(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype,"
            " pg_get_constraintdef(c.oid) FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %s"
            " ORDER BY 2", (schema,))).fetchall()
        functions = await (await conn.execute(
            "SELECT p.proname, replace(pg_get_functiondef(p.oid), %s, 'S') FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s ORDER BY 1",
            (schema, schema))).fetchall()
        versions = await (await conn.execute(
            f"SELECT version FROM {schema}.jobglass_schema ORDER BY 1")).fetchall()
    constraints = [(t.replace(schema + ".", "S."), *rest) for t, *rest in constraints]
    return {"columns": columns, "indexes": indexes, "constraints": constraints,
            "functions": functions, "versions": versions[-1:]}


async def test_fresh_schema_equals_the_migrations_applied_in_order() -> None:
    async with postgres_schema() as fresh_url, postgres_schema() as migrated_url:
        fresh, migrated = parse_url(fresh_url), parse_url(migrated_url)
        async with raw() as conn:
            latest = await apply_schema(conn, fresh)
            applied = await apply_schema(conn, migrated, fresh_from_schema=False)
            assert applied == list(range(1, latest[0] + 1))
        one, other = await _describe(fresh.schema), await _describe(migrated.schema)
        assert one["columns"], "no tables were created"
        assert one == other


async def test_schema_8_keeps_the_counts_of_jobs_stored_before_it() -> None:
    """Upgrading a populated schema 7: the per-queue counts, read through the indexes
    0008 builds, cover jobs enqueued, claimed and blocked before the upgrade."""
    async with postgres_schema() as url:
        config = parse_url(url)
        async with raw() as conn, conn.transaction():
            await conn.execute(f"CREATE SCHEMA {config.schema}")
            await conn.execute(f"SET LOCAL search_path TO {config.schema}")
            await conn.execute("CREATE TABLE jobglass_schema (version integer PRIMARY KEY,"
                               " applied_at double precision NOT NULL)")
            for migration in load_migrations("jobglass.store.postgres"):
                if migration.version <= 7:
                    await conn.execute(migration.sql.encode(), prepare=False)
                    await conn.execute("INSERT INTO jobglass_schema VALUES (%s, 0)",
                                       (migration.version,))
        async with opened(with_params(url, migrate="false")) as old:
            first, *_ = await old.enqueue_many([JobSpec(task="t", queue="q")] * 3, now=T0)
            await old.enqueue_many([JobSpec(task="t", queue="q", depends_on=[first.id])],
                                   now=T0)
            assert len(await old.claim("w1", ["q"], 2, now=T0)) == 2
        async with opened(url) as store:
            assert await store.schema_version() == 8
            [stats] = await store.queue_stats(now=T0)
            assert stats.counts == {JobState.BLOCKED: 1, JobState.QUEUED: 1,
                                    JobState.RUNNING: 2}


async def test_concurrent_migrators_create_the_schema_once(url: str) -> None:
    stores = [PostgresStore(url) for _ in range(4)]
    try:
        await asyncio.gather(*(s.open() for s in stores))
        versions = [await s.schema_version() for s in stores]
        assert len(set(versions)) == 1
        assert versions[0] >= 1
        assert await stores[0].migrate() == []
        schema = parse_url(url).schema
        assert await scalar(f"SELECT COUNT(*) FROM {schema}.jobglass_schema") == 1
    finally:
        for s in stores:
            await s.close()


async def test_claims_and_gauges_are_served_by_the_partial_indexes(url: str) -> None:
    schema = parse_url(url).schema
    async with opened(url) as store, raw() as conn:
        # A backlog the planner has no statistics for: the claim must still walk
        # the ready index in order rather than sort the backlog.
        await store.enqueue_many([JobSpec(task="t") for _ in range(5000)], now=T0)
        await conn.execute("LOAD 'auto_explain'")
        await conn.execute("SET auto_explain.log_min_duration = 0")
        await conn.execute("SET auto_explain.log_nested_statements = on")
        await conn.execute("SET client_min_messages = log")
        notices: list[str] = []
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        await conn.execute(f"SELECT {schema}.jobglass_pick_ready(%s, %s::text[], 10, false)",
                           (T0, []))
        await conn.execute("SET auto_explain.log_min_duration = -1")
        pick = "\n".join(notices)
        assert "jobglass_jobs_ready_any" in pick, pick
        assert "Sort" not in pick, pick
        # The gauges: each state's count through its own partial index (an index path
        # exists for every branch, so none of them reads finished history).
        await conn.execute("SET enable_seqscan = off")
        notices.clear()
        await conn.execute("SET auto_explain.log_min_duration = 0")
        stats = await reads.queue_stats(conn, schema, T0 + 1)
        await conn.execute("SET auto_explain.log_min_duration = -1")
    gauges = "\n".join(notices)
    assert [(q.queue, q.counts[JobState.QUEUED]) for q in stats] == [("default", 5000)]
    for index in ("jobglass_jobs_blocked", "jobglass_jobs_ready", "jobglass_jobs_running"):
        assert index in gauges, gauges
    assert "Seq Scan on jobglass_jobs" not in gauges, gauges


# -- wake-ups --------------------------------------------------------------------------


async def test_a_notify_wakes_a_waiting_store_at_once(url: str) -> None:
    config = parse_url(url)
    async with opened(url) as store:
        await store.wait_for_jobs(0)  # subscribe; nothing pending
        waiting = asyncio.create_task(store.wait_for_jobs(30))
        started = time.monotonic()
        async with raw() as conn:
            await conn.execute("SELECT pg_notify(%s, 'default')", (config.channel,))
        await asyncio.wait_for(waiting, 10)
        assert time.monotonic() - started < 5


async def test_an_enqueue_from_another_store_wakes_the_waiter(url: str) -> None:
    async with opened(url) as worker, opened(url) as producer:
        await worker.wait_for_jobs(0)
        waiting = asyncio.create_task(worker.wait_for_jobs(30))
        async with raw() as conn, conn.transaction():
            # The caller's connection: only the committed NOTIFY can wake the worker.
            await producer.enqueue_many([JobSpec(task="t")], connection=conn)
        await asyncio.wait_for(waiting, 10)
        assert len(await worker.claim("w1", [], 10)) == 1


async def test_a_plain_batch_is_stored_and_announced_in_one_statement(url: str) -> None:
    """No unique keys, no parents: insert and NOTIFY go as one autocommitted statement.
    Ids follow the specs' order; each queue with a ready job is announced once."""
    config = parse_url(url)
    specs = [JobSpec(task="a", queue="mail", args=[1]), JobSpec(task="b", queue="mail"),
             JobSpec(task="c", queue="later", run_at=time.time() + 3600),
             JobSpec(task="d", queue="reports", kwargs={"k": "v"})]
    async with opened(url) as store, raw() as listener:
        await listener.execute(f"LISTEN {config.channel}")
        jobs = await store.enqueue_many(specs)
        heard: list[str] = []
        async with asyncio.timeout(10):
            async for note in listener.notifies():
                heard.append(note.payload)
                if len(heard) == 3:
                    break
        assert sorted(heard) == ["later", "mail", "reports"]  # delayed jobs are queued too
        assert [j.id for j in jobs] == sorted(j.id for j in jobs)
        for spec, job in zip(specs, jobs, strict=True):
            stored = await store.get(job.id)
            assert (stored.task, stored.queue, stored.args, stored.kwargs) == (
                spec.task, spec.queue, spec.args, spec.kwargs)
            assert stored.state is JobState.QUEUED
            assert stored.run_at == job.run_at


async def test_columns_a_batch_leaves_out_hold_the_tables_own_defaults(url: str) -> None:
    """A plain batch omits a column whose every value is the default: only right while
    `COLUMN_DEFAULTS` says what schema.sql says."""
    async with opened(url), raw() as conn:
        cur = await conn.execute(
            "SELECT column_name, column_default FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'jobglass_jobs'", (parse_url(url).schema,))
        defaults = {name: default for name, default in await cur.fetchall()}
    for name, value in COLUMN_DEFAULTS.items():
        async with raw() as conn:
            cur = await conn.execute(f"SELECT {defaults[name] or 'NULL'}")
            (stored,) = await cur.fetchone() or (object(),)
        assert stored == value, name


async def test_a_batch_of_defaults_and_one_of_none_store_what_was_asked(url: str) -> None:
    """Every leavable column at its default in one batch, at another value in the next:
    both come back as sent, whatever columns each statement carried."""
    plain = [JobSpec(task="t"), JobSpec(task="t")]
    full = [JobSpec(task="t", args=[1], kwargs={"a": 1}, priority=3, timeout=9.0,
                    traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                    tracestate="v=1", request_id="r"),
            JobSpec(task="t", command="echo hi", kind=JobKind.SHELL)]
    async with opened(url) as store:
        for specs in (plain, full, plain):
            jobs = await store.enqueue_many(specs)
            assert [await store.get(job.id) for job in jobs] == jobs
            for spec, job in zip(specs, jobs, strict=True):
                assert (job.args, job.kwargs, job.priority, job.timeout, job.kind, job.command,
                        job.traceparent, job.tracestate, job.request_id) == (
                    spec.args, spec.kwargs, spec.priority, spec.timeout, spec.kind,
                    spec.command, spec.traceparent, spec.tracestate, spec.request_id)


async def test_a_child_released_by_a_batch_of_successes_is_notified(url: str) -> None:
    """The release and its NOTIFY are part of the finish statement (no transaction of
    its own): a listener elsewhere hears of the child's queue."""
    config = parse_url(url)
    async with opened(url) as store, raw() as listener:
        [parent, sibling] = await store.enqueue_many([JobSpec(task="p"),
                                                      JobSpec(task="s", queue="other")])
        [child] = await store.enqueue_many([JobSpec(task="c", queue="kids",
                                                    depends_on=[parent.id])])
        claimed = await store.claim("w1", [], 10)
        assert {j.id for j in claimed} == {parent.id, sibling.id}
        await listener.execute(f"LISTEN {config.channel}")
        assert await store.finish_many([Report(j.id, j.lease or "", Outcome.SUCCEEDED)
                                        for j in claimed]) == [True, True]
        heard = []
        async with asyncio.timeout(10):
            async for note in listener.notifies():
                heard.append(note.payload)
                break
        assert heard == ["kids"]
        assert (await store.get(child.id)).state is JobState.QUEUED


async def test_wait_for_jobs_returns_after_the_timeout_when_idle(url: str) -> None:
    async with opened(url) as store:
        await store.wait_for_jobs(0)
        started = time.monotonic()
        await store.wait_for_jobs(0.2)
        assert time.monotonic() - started >= 0.15


# -- transactional enqueue ---------------------------------------------------------------


async def test_transactional_enqueue_exists_only_if_the_caller_commits(url: str) -> None:
    async with opened(url) as store, raw() as conn:
        async with conn.transaction():
            [kept] = await store.enqueue_many([JobSpec(task="kept")], connection=conn)
            with pytest.raises(JobNotFound):
                await store.get(kept.id)  # not visible outside the open transaction
        assert (await store.get(kept.id)).state is JobState.QUEUED

        tx = conn.transaction()
        await tx.__aenter__()
        [dropped] = await store.enqueue_many([JobSpec(task="dropped")], connection=conn)
        await tx.__aexit__(RuntimeError, RuntimeError("caller gave up"), None)  # rolls back
        with pytest.raises(JobNotFound):
            await store.get(dropped.id)
        assert [j.task for j in (await store.list_jobs()).jobs] == ["kept"]


async def test_transactional_enqueue_on_a_fresh_non_autocommit_connection(url: str) -> None:
    """The enqueue is the first statement of the caller's implicit transaction: it
    must stay in it (psycopg's transaction() alone would commit it at once)."""
    async with opened(url) as store:
        async with await psycopg.AsyncConnection.connect(PG_URL) as conn:
            [dropped] = await store.enqueue_many([JobSpec(task="dropped")], connection=conn)
            await conn.rollback()
            [kept] = await store.enqueue_many([JobSpec(task="kept")], connection=conn)
            with pytest.raises(JobNotFound):
                await store.get(kept.id)  # not committed yet
            await conn.commit()
        with pytest.raises(JobNotFound):
            await store.get(dropped.id)
        assert [j.task for j in (await store.list_jobs()).jobs] == ["kept"]


# -- unique keys -------------------------------------------------------------------------


async def test_fifty_concurrent_enqueues_of_one_key_make_one_job(url: str) -> None:
    stores = [PostgresStore(url) for _ in range(5)]
    try:
        for s in stores:
            await s.open()
        results = await asyncio.gather(*(
            stores[i % 5].enqueue_many([JobSpec(task="once", unique_key="k")], now=T0)
            for i in range(50)))
        assert len({job.id for [job] in results}) == 1
        assert len((await stores[0].list_jobs()).jobs) == 1
    finally:
        for s in stores:
            await s.close()


# -- leadership --------------------------------------------------------------------------


async def _leader_pid(url: str) -> int:
    key = parse_url(url).lock_key("leader")
    return int(await scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = %s AND objid = %s AND objsubid = 1",
        ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)))


async def test_one_leader_until_it_closes(url: str) -> None:
    async with opened(url) as second:
        first = PostgresStore(url)
        await first.open()
        try:
            assert await first.try_lead("a")
            assert await first.try_lead("a")
            assert not await first.try_lead("b")  # another holder on the same store
            assert not await second.try_lead("b")
        finally:
            await first.close()
        assert await second.try_lead("b")


async def test_leadership_moves_when_the_leaders_connection_is_terminated(url: str) -> None:
    async with opened(url) as first, opened(url) as second:
        assert await first.try_lead("a")
        assert not await second.try_lead("b")
        assert await scalar("SELECT pg_terminate_backend(%s, 5000)", (await _leader_pid(url),))
        assert await second.try_lead("b")
        assert not await first.try_lead("a")  # reconnected, but the lock is taken


# -- faults ------------------------------------------------------------------------------


async def _terminate(app_name: str) -> int:
    async with raw() as conn:
        rows = await (await conn.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE application_name = %s", (app_name,))).fetchall()
        return len(rows)


async def test_a_store_survives_its_connections_being_terminated(url: str) -> None:
    name = new_schema_name()
    victim_url = with_params(url, application_name=name, pool_min="3")
    async with opened(victim_url) as store:
        jobs = await store.enqueue_many([JobSpec(task="t") for _ in range(20)], now=T0)
        await store.wait_for_jobs(0)
        assert await store.try_lead("w1")
        assert await _terminate(name) >= 3  # pool, listener, leader
        try:
            await store.ping()
        except StoreUnavailable:
            assert store.unreachable_since is not None
        for _ in range(3):
            await store.ping()
        assert store.unreachable_since is None
        claimed = await store.claim("w1", [], 100, now=T0)
        assert sorted(j.id for j in claimed) == sorted(j.id for j in jobs)  # nothing lost
        # The listener reconnects and, having missed notifications, wakes its caller.
        await asyncio.wait_for(store.wait_for_jobs(30), 10)
        await store.try_lead("w1")  # reconnects; leadership is bid for again


async def test_a_batch_cut_by_a_terminated_connection_is_all_or_nothing(url: str) -> None:
    name = new_schema_name()
    victim_url = with_params(url, application_name=name, pool_min="1", pool_max="1")
    async with opened(victim_url) as store, opened(url) as observer:
        for _ in range(5):
            outcome, _ = await asyncio.gather(
                store.enqueue_many([JobSpec(task="t") for _ in range(2000)], now=T0),
                _terminate(name), return_exceptions=True)
            assert isinstance(outcome, list | StoreUnavailable), outcome
        stored = (await observer.list_jobs(limit=100_000)).jobs
        assert len(stored) % 2000 == 0


async def test_a_closed_store_is_unavailable(url: str) -> None:
    store = PostgresStore(url)
    await store.open()
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.ping()


async def test_an_unreachable_server_is_store_unavailable() -> None:
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/test?pool_timeout=1"
                          "&connect_timeout=1")
    with pytest.raises(StoreUnavailable):
        await store.open()
    assert store.unreachable_since is not None


# -- concurrency -------------------------------------------------------------------------


async def test_concurrent_claims_never_hand_out_a_job_twice(url: str) -> None:
    async with opened(url) as seed:
        await seed.enqueue_many([JobSpec(task="t", priority=i % 3) for i in range(600)],
                                now=T0)
    stores = [PostgresStore(url) for _ in range(4)]
    claimed: list[int] = []

    async def drain(store: PostgresStore, worker: str) -> None:
        while jobs := await store.claim(worker, [], 7, now=T0):
            claimed.extend(j.id for j in jobs)
            applied = await store.finish_many(
                [Report(job_id=j.id, lease=j.lease or "", outcome=Outcome.SUCCEEDED)
                 for j in jobs], now=T0)
            assert all(applied)

    try:
        for s in stores:
            await s.open()
        await asyncio.gather(*(drain(stores[i % 4], f"w{i}") for i in range(12)))
    finally:
        for s in stores:
            await s.close()
    assert len(claimed) == 600
    assert len(set(claimed)) == 600
