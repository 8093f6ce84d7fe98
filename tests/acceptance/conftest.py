"""Fixtures for acceptance tests: a `Workers` launcher and a store on the same file;
`pg_workers` and `pg_store` do the same on a fresh PostgreSQL schema of the test's own
(skipped loudly when the server is down, failed under CI=true: see integration/pg.py)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from procs import Workers

from jobglass.store import Store, store_from_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
from pg import postgres_schema


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    w = Workers(tmp_path, f"sqlite:///{tmp_path}/jobs.db")
    try:
        yield w
    finally:
        w.stop_all()


@pytest.fixture
async def store(workers: Workers) -> AsyncIterator[Store]:
    s = store_from_url(workers.url)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def pg_workers(tmp_path: Path) -> AsyncIterator[Workers]:
    """Workers on a throw-away PostgreSQL schema (`?schema=` in the URL), dropped after."""
    async with postgres_schema() as url:
        w = Workers(tmp_path, url)
        try:
            yield w
        finally:
            w.stop_all()
            for i, proc in enumerate(w.procs):  # shown by pytest when the test fails
                print(f"--- worker {i} (pid {proc.pid}, exit {proc.returncode}) ---\n"
                      f"{w.output(proc)[-3000:]}")


@pytest.fixture
async def pg_store(pg_workers: Workers) -> AsyncIterator[Store]:
    s = store_from_url(pg_workers.url)
    await s.open()
    try:
        yield s
    finally:
        await s.close()
