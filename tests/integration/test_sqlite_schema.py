"""SQLite only: the fresh schema equals the migrated one, and several processes
share one database file safely."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from jobglass.model import ConfigError, JobSpec
from jobglass.store.migrations import latest_version, load_migrations
from jobglass.store.sqlite import SQLiteStore, wal_watch
from jobglass.store.sqlite.connection import SQLiteConnection
from jobglass.store.sqlite.schema import PACKAGE, apply_schema, current_version

Schema = dict[str, Any]


@asynccontextmanager
async def connection(path: Path) -> AsyncIterator[SQLiteConnection]:
    conn = SQLiteConnection(str(path))
    await conn.open()
    try:
        yield conn
    finally:
        await conn.close()


def _normalise(sql: str | None) -> str | None:
    return None if sql is None else re.sub(r"\s+", " ", sql).strip()


def describe(db: sqlite3.Connection) -> Schema:
    """Everything about the schema that matters, in a comparable form."""
    objects = db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master"
        " WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").fetchall()
    out: Schema = {"objects": [(t, n, tbl, _normalise(sql)) for t, n, tbl, sql in objects]}
    for kind, name, _, _ in objects:
        if kind == "table":
            out[f"table_info:{name}"] = [tuple(r) for r in
                                         db.execute(f"PRAGMA table_xinfo('{name}')")]
            out[f"index_list:{name}"] = sorted(tuple(r)[1:] for r in
                                               db.execute(f"PRAGMA index_list('{name}')"))
        elif kind == "index":
            out[f"index_xinfo:{name}"] = [tuple(r) for r in
                                          db.execute(f"PRAGMA index_xinfo('{name}')")]
    return out


async def build(path: Path, *, fresh_from_schema: bool) -> tuple[list[int], Schema]:
    async with connection(path) as conn:
        applied = await conn.run(lambda: apply_schema(conn, fresh_from_schema=fresh_from_schema))
        return applied, await conn.run(lambda: describe(conn.db))


async def test_fresh_schema_equals_the_migrated_one(tmp_path: Path) -> None:
    fresh_applied, fresh = await build(tmp_path / "fresh.db", fresh_from_schema=True)
    migrated_applied, migrated = await build(tmp_path / "migrated.db", fresh_from_schema=False)
    latest = latest_version(PACKAGE)
    assert fresh_applied == [latest]
    assert migrated_applied == [m.version for m in load_migrations(PACKAGE)]
    assert fresh == migrated
    tables = {name for kind, name, _, _ in fresh["objects"] if kind == "table"}
    assert {"jobglass_jobs", "jobglass_deps", "jobglass_attempts", "jobglass_workers",
            "jobglass_queues", "jobglass_schema"} <= tables


def test_migrations_are_numbered_from_one_without_gaps() -> None:
    versions = [m.version for m in load_migrations(PACKAGE)]
    assert versions == list(range(1, len(versions) + 1))
    assert latest_version(PACKAGE) == versions[-1]


@pytest.mark.parametrize("fresh_from_schema", [True, False])
async def test_migrating_twice_is_a_no_op(tmp_path: Path, fresh_from_schema: bool) -> None:
    path = tmp_path / "jobs.db"
    _, first = await build(path, fresh_from_schema=fresh_from_schema)
    async with connection(path) as conn:
        assert await conn.run(lambda: apply_schema(conn, fresh_from_schema=True)) == []
        assert await conn.run(lambda: apply_schema(conn, fresh_from_schema=False)) == []
        assert await conn.run(lambda: current_version(conn.db)) == latest_version(PACKAGE)
        rows = await conn.run(
            lambda: conn.db.execute("SELECT version FROM jobglass_schema").fetchall())
        assert len(rows) == (1 if fresh_from_schema else len(load_migrations(PACKAGE)))
        assert await conn.run(lambda: describe(conn.db)) == first


async def test_store_open_migrates_and_reopen_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jobs.db"
    store = SQLiteStore(url)
    await store.open()
    [job] = await store.enqueue_many([JobSpec(task="t")])
    assert await store.schema_version() == latest_version(PACKAGE)
    await store.close()
    await store.close()  # a second close does nothing
    again = SQLiteStore(url)
    await again.open()
    try:
        assert await again.migrate() == []
        assert (await again.get(job.id)).task == "t"
    finally:
        await again.close()


async def test_migrate_false_leaves_an_empty_database_alone(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/jobs.db?migrate=false")
    await store.open()
    try:
        assert await store.schema_version() == 0
        assert await store.migrate() == [latest_version(PACKAGE)]
        assert await store.schema_version() == latest_version(PACKAGE)
    finally:
        await store.close()


@pytest.mark.parametrize("url", ["postgresql://x/y", "sqlite://", "sqlite:///x.db?synchronous=bad"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        SQLiteStore(url)


def test_url_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert SQLiteStore("sqlite:///rel.db").path == str(tmp_path / "rel.db")
    assert SQLiteStore(f"sqlite:///{tmp_path}/abs.db").path == str(tmp_path / "abs.db")
    assert SQLiteStore("sqlite:///:memory:").path == ":memory:"


# -- several processes on one file -----------------------------------------------------

CLAIMER = textwrap.dedent("""
    import asyncio, json, os, sys, time
    from jobglass.model import Outcome
    from jobglass.store.protocol import Report
    from jobglass.store.sqlite import SQLiteStore

    url, me, folder, peers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    async def main() -> None:
        store = SQLiteStore(url)
        await store.open()
        # Start together: announce, then wait (with a deadline) until every peer has.
        open(os.path.join(folder, "ready-" + me), "w").close()
        deadline = time.monotonic() + 30
        while sum(n.startswith("ready-") for n in os.listdir(folder)) < peers:
            if time.monotonic() > deadline:
                raise SystemExit("peers never became ready")
            time.sleep(0.001)
        claimed = []
        while True:
            jobs = await store.claim(me, [], 10)
            if not jobs:
                break
            claimed += [j.id for j in jobs]
            await store.finish_many([Report(j.id, j.lease, Outcome.SUCCEEDED, result=me)
                                     for j in jobs])
        await store.close()
        print(json.dumps(claimed))

    asyncio.run(main())
""")


async def run_python(*args: str, cwd: Path) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=cwd, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_two_processes_never_claim_the_same_job(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jobs.db"
    store = SQLiteStore(url)
    await store.open()
    try:
        made = await store.enqueue_many([JobSpec(task="t", args=[i]) for i in range(500)])
        outputs = await asyncio.gather(
            *(run_python("-c", CLAIMER, url, name, str(tmp_path), "2", cwd=tmp_path)
              for name in ("p1", "p2")))
        p1, p2 = (set(json.loads(out)) for out in outputs)
        assert not p1 & p2
        assert p1 | p2 == {j.id for j in made}
        assert len(p1) + len(p2) == 500
        done = (await store.list_jobs(limit=1000)).jobs
        assert {j.state.value for j in done} == {"succeeded"}
        assert all(j.result == ("p1" if j.id in p1 else "p2") for j in done)
        assert all(j.attempt == 1 for j in done)
    finally:
        await store.close()


ENQUEUER = textwrap.dedent("""
    import asyncio, sys
    from jobglass.model import JobSpec
    from jobglass.store.sqlite import SQLiteStore

    async def main() -> None:
        store = SQLiteStore(sys.argv[1])
        await store.open()
        await store.enqueue_many([JobSpec(task="from-elsewhere")])
        await store.close()

    asyncio.run(main())
""")


@pytest.mark.parametrize(("how", "query"), [
    ("the WAL watch, long before the 30 s poll", "?poll=30"),
    ("the data_version poll alone, without inotify", ""),
])
async def test_an_idle_worker_sees_an_enqueue_from_another_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, query: str) -> None:
    """Two ways to notice another process's commit, each alone: inotify on the WAL
    file (the poll set to 30 s), and the data_version poll (inotify taken away)."""
    if not query:
        monkeypatch.setattr(wal_watch, "INotify", None)
    url = f"sqlite:///{tmp_path}/jobs.db{query}"
    store = SQLiteStore(url)
    await store.open()
    try:
        await store.wait_for_jobs(0)  # establish what "new" means
        waiting = asyncio.create_task(store.wait_for_jobs(60))
        await run_python("-c", ENQUEUER, url, cwd=tmp_path)
        await asyncio.wait_for(waiting, timeout=10)  # far less than the 60 asked
        [job] = (await store.list_jobs()).jobs
        assert job.task == "from-elsewhere"
    finally:
        await store.close()


async def test_queue_counts_never_scan_the_jobs_table(tmp_path: Path) -> None:
    """The scrape's per-queue counts and oldest ready job go through partial indexes of
    live jobs, so their cost does not grow with finished history."""
    from jobglass.store.sqlite import reads

    async with connection(tmp_path / "plan.db") as conn:
        await conn.run(lambda: apply_schema(conn))
        seen: list[str] = []

        def stats() -> None:
            conn.db.set_trace_callback(seen.append)
            try:
                reads.queue_stats(conn.db, 0.0)
            finally:
                conn.db.set_trace_callback(None)

        await conn.run(stats)
        counts = [sql for sql in seen if "FROM jobglass_jobs " in sql]
        assert len(counts) == 4  # blocked, queued and running counts; the oldest ready
        for sql in counts:
            plan = " | ".join(row[3] for row in await conn.run(
                lambda sql=sql: conn.db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()))
            assert "INDEX" in plan, plan
            assert not re.search(r"SCAN jobglass_jobs(?! USING)", plan), plan
