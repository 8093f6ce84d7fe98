"""jobglass on PostgreSQL, in a throw-away schema (server defaults: fsync and
synchronous_commit on)."""

from __future__ import annotations

import os

import psycopg

from bench.peers.base import PG_URL
from bench.peers.jobglass_common import JobglassBase


class Adapter(JobglassBase):
    name = "jobglass_pg"
    storage = "postgres"

    def setup(self) -> None:
        self.schema = f"bench_jg_{os.getpid()}"
        self.url = f"{PG_URL}?schema={self.schema}"
        self._probe: psycopg.Connection | None = None

    def pending(self) -> int:
        if self._probe is None:
            self._probe = psycopg.connect(PG_URL, autocommit=True)
        row = self._probe.execute(f"SELECT count(*) FROM {self.schema}.jobglass_jobs"
                                  " WHERE state IN ('queued', 'running')").fetchone()
        assert row is not None
        return int(row[0])

    def teardown(self) -> None:
        if getattr(self, "_probe", None) is not None:
            self._probe.close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
