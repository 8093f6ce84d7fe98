"""PostgreSQL for the integration tests: one throw-away schema per test.

The server is named by JOBGLASS_TEST_PG_URL (default: local trust auth, database
`test`). When it cannot be reached, tests that need it are skipped with a loud
reason, except under CI=true, where they fail: CI must not pass by skipping.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from unavailable import unavailable

PG_URL = os.environ.get("JOBGLASS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def _unreachable_reason() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_URL} is unreachable ({exc}); set JOBGLASS_TEST_PG_URL"
    return None


def require_postgres() -> None:
    """Skip (or, under CI=true, fail) the calling test when the server is down."""
    reason = _unreachable_reason()
    if reason is not None:
        unavailable("POSTGRES TESTS", reason)


def with_params(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))


def new_schema_name() -> str:
    return f"jobglass_t_{secrets.token_hex(6)}"


async def drop_schema(name: str) -> None:
    async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@asynccontextmanager
async def postgres_schema(schema: str | None = None) -> AsyncIterator[str]:
    """The URL of a fresh schema of its own, dropped (with its tables) on exit."""
    require_postgres()
    name = schema or new_schema_name()
    try:
        yield with_params(PG_URL, schema=name)
    finally:
        await drop_schema(name)


@asynccontextmanager
async def postgres_database(tmp_path: Path) -> AsyncIterator[str]:
    """`conftest.DATABASES` factory: the PostgreSQL backend of the contract suite."""
    async with postgres_schema() as url:
        yield url
