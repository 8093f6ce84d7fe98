"""Procrastinate on PostgreSQL (psycopg connector), in its own throw-away schema
(search_path; server fsync and synchronous_commit on). One worker process
(`run_worker_async`, concurrency 100 for no-ops, 50 for the sleep workload,
LISTEN/NOTIFY on, defaults otherwise). A job is 'doing' until it returns, then
'succeeded' (kept: delete_jobs=never, its default); a job whose worker died stays
'doing' until retried (stalled-job retry is the user's to run)."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import quote

import psycopg
from procrastinate import App, PsycopgConnector

from bench.peers.base import PG_URL, SLEEP, Base, parse_worker_args, send_mark

SCHEMA_ENV = "BENCH_PROCRASTINATE_SCHEMA"


def make_app(schema: str) -> App:
    url = f"{PG_URL}?options={quote(f'-c search_path={schema}')}"
    app = App(connector=PsycopgConnector(conninfo=url))

    @app.task(name="noop")
    async def noop() -> None:
        return None

    @app.task(name="sleep")
    async def sleep() -> None:
        await asyncio.sleep(SLEEP)

    @app.task(name="mark")
    async def mark(port: int) -> None:
        send_mark(port)

    return app


class Adapter(Base):
    name = "procrastinate_pg"
    storage = "postgres"

    def setup(self) -> None:
        self.schema = f"bench_pc_{os.getpid()}"
        self.probe = psycopg.connect(PG_URL, autocommit=True)
        self.probe.execute(f"CREATE SCHEMA {self.schema}")
        self.app = make_app(self.schema)
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.app.open_async())
        self.loop.run_until_complete(self.app.schema_manager.apply_schema_async())

    def worker_env(self) -> dict[str, str]:
        return {SCHEMA_ENV: self.schema}

    def enqueue_one(self, kind: str, *args: object) -> None:
        kwargs = {"port": args[0]} if args else {}
        self.loop.run_until_complete(self.app.tasks[kind].defer_async(**kwargs))

    def enqueue_batch(self, kind: str, n: int) -> None:
        self.loop.run_until_complete(self.app.tasks[kind].batch_defer_async(*([{}] * n)))

    def pending(self) -> int:
        row = self.probe.execute(f"SELECT count(*) FROM {self.schema}.procrastinate_jobs"
                                 " WHERE status IN ('todo', 'doing')").fetchone()
        assert row is not None
        return int(row[0])

    def teardown(self) -> None:
        if getattr(self, "loop", None) is not None:
            self.loop.run_until_complete(self.app.close_async())
            self.loop.close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        if getattr(self, "probe", None) is not None:
            self.probe.close()


def main() -> None:
    _kind, concurrency = parse_worker_args()
    app = make_app(os.environ[SCHEMA_ENV])

    async def run() -> None:
        async with app.open_async():
            await app.run_worker_async(concurrency=concurrency, wait=True)

    asyncio.run(run())


if __name__ == "__main__":
    main()
