"""PgQueuer on PostgreSQL (asyncpg driver, its first choice), installed in its own throw-away schema
with its default durability ("durable": every table logged; server fsync and
synchronous_commit on). One `PgQueuer` process: batch_size 10 (its default),
max_concurrent_tasks 100 for no-ops, 50 for the sleep workload. A job is 'picked'
until its entrypoint returns, then deleted and logged (completion buffered);
stalled jobs are retried through the heartbeat timeout."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import psycopg

from bench.peers.base import PG_URL, SLEEP, Base, parse_worker_args, send_mark

SCHEMA_ENV = "PGQUEUER_SCHEMA"


async def _connect() -> Any:
    import asyncpg

    return await asyncpg.connect(PG_URL)


class Adapter(Base):
    name = "pgqueuer_pg"
    storage = "postgres"

    def setup(self) -> None:
        self.schema = f"bench_pgq_{os.getpid()}"
        os.environ[SCHEMA_ENV] = self.schema
        from pgqueuer.db import AsyncpgDriver
        from pgqueuer.queries import Queries

        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(_connect())
        self.q = Queries(AsyncpgDriver(self.conn))
        self.loop.run_until_complete(self.q.install())
        self.probe = psycopg.connect(PG_URL, autocommit=True)

    def worker_env(self) -> dict[str, str]:
        return {SCHEMA_ENV: self.schema}

    def enqueue_one(self, kind: str, *args: object) -> None:
        payload = str(args[0]).encode() if args else None
        self.loop.run_until_complete(self.q.enqueue(kind, payload))

    def enqueue_batch(self, kind: str, n: int) -> None:
        self.loop.run_until_complete(self.q.enqueue([kind] * n, [None] * n, [0] * n))

    def pending(self) -> int:
        row = self.probe.execute(f"SELECT count(*) FROM {self.schema}.pgqueuer").fetchone()
        assert row is not None
        return int(row[0])

    def teardown(self) -> None:
        if getattr(self, "conn", None) is not None:
            self.loop.run_until_complete(self.conn.close())
        if getattr(self, "loop", None) is not None:
            self.loop.close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        if getattr(self, "probe", None) is not None:
            self.probe.close()


def main() -> None:
    _kind, concurrency = parse_worker_args()
    from pgqueuer import PgQueuer
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.models import Job

    async def run() -> None:
        conn = await _connect()
        pgq = PgQueuer(AsyncpgDriver(conn))

        @pgq.entrypoint("noop")
        async def noop(job: Job) -> None:
            return None

        @pgq.entrypoint("sleep")
        async def sleep(job: Job) -> None:
            await asyncio.sleep(SLEEP)

        @pgq.entrypoint("mark")
        async def mark(job: Job) -> None:
            send_mark(int(job.payload or b"0"))

        await pgq.run(max_concurrent_tasks=max(concurrency, 20))

    asyncio.run(run())


if __name__ == "__main__":
    main()
