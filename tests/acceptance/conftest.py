"""Fixtures for acceptance tests: a `Workers` launcher and a store on the same file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from procs import Workers

from jobglass.store import Store, store_from_url


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
