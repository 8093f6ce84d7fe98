"""The `store` fixture: every contract test runs once per backend.

Each test gets a fresh, empty database of its own (a new SQLite file under the
test's tmp_path), so tests never see each other's jobs and need no marker.

A backend is one entry of `DATABASES`: an async context manager that makes a
throw-away database, yields its URL and removes it afterwards. The store itself
is opened from the URL by `store_from_url`, so adding PostgreSQL is a factory
that creates (and drops) a database or schema per test, plus one line::

    DATABASES = {"sqlite": sqlite_database, "postgres": postgres_database}

(mark its param with `pytest.mark.postgres` via `pytest.param` if it needs the
server).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from pg import postgres_database

from jobglass.store import Store, store_from_url

DatabaseFactory = Callable[[Path], AbstractAsyncContextManager[str]]
OpenStore = Callable[[str], AbstractAsyncContextManager[Store]]


@asynccontextmanager
async def sqlite_database(tmp_path: Path) -> AsyncIterator[str]:
    yield f"sqlite:///{tmp_path}/jobs.db"  # tmp_path is removed by pytest


DATABASES: dict[str, DatabaseFactory] = {
    "sqlite": sqlite_database,
    "postgres": postgres_database,
}


@asynccontextmanager
async def open_store(url: str) -> AsyncIterator[Store]:
    """An opened (and migrated) store on `url`, closed on exit."""
    store = store_from_url(url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


MARKS = {"postgres": pytest.mark.postgres}


@pytest.fixture(params=[pytest.param(name, marks=MARKS.get(name, ())) for name in DATABASES])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a fresh, empty database for this test alone."""
    async with DATABASES[request.param](tmp_path) as url:
        yield url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    async with open_store(database_url) as opened:
        yield opened


@pytest.fixture(name="open_store")
def open_store_fixture() -> OpenStore:
    """Open more stores on `database_url` (another process's view of the same data)."""
    return open_store
