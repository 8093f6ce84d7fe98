"""The sync API's enqueue runs on the caller's thread, on a connection of its own
(SQLite: every batch; PostgreSQL: batches without unique keys or parents), once the
first call has opened (and migrated) the store through the portal."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pg import PG_URL, new_schema_name, require_postgres, with_params

import jobglass
from jobglass import App, JobState
from jobglass.model import StoreUnavailable
from jobglass.observe.events import JobEnqueued
from jobglass.observe.observer import Recorder


@contextmanager
def app_on(kind: str, tmp_path: Path) -> Iterator[App]:
    schema = None
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path}/jobs.db"
    else:
        require_postgres()
        schema = new_schema_name()
        url = with_params(PG_URL, schema=schema)
    app = jobglass.App(url)
    try:
        yield app
    finally:
        app.close()
        if schema is not None:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    with app_on(request.param, tmp_path) as app:
        yield app


def _is_closed(conn: Any) -> bool:
    if isinstance(conn, sqlite3.Connection):
        try:
            conn.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            return True
        return False
    return bool(conn.closed)


def _count_portal_calls(app: App) -> list[Any]:
    calls: list[Any] = []
    real = app.portal.call

    def counting(coro: Any) -> Any:
        calls.append(coro)
        return real(coro)

    app.portal.call = counting  # type: ignore[method-assign]
    return calls


def test_after_the_first_enqueue_threads_enqueue_without_the_portal(app: App) -> None:
    @app.task(name="work")
    def work(n: int) -> int:
        return n

    recorder = Recorder()
    app.observer.add(recorder)
    work.enqueue(0)  # opens and migrates the store through the portal
    portal_calls = _count_portal_calls(app)
    handles: list[jobglass.JobHandle] = []
    errors: list[BaseException] = []

    def producer(start: int) -> None:
        try:
            for n in range(start, start + 50):
                handles.append(work.enqueue(n))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=producer, args=(i * 100,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert portal_calls == []
    ids = [h.id for h in handles]
    assert len(set(ids)) == 400
    enqueued = [e.job.id for e in recorder.events if isinstance(e, JobEnqueued)]
    assert sorted(enqueued[1:]) == sorted(ids)  # events still fire, on the caller's thread
    stored = handles[-1].refresh()  # what the store holds, read through the portal
    assert stored.state is JobState.QUEUED
    assert stored.args == [handles[-1].job.args[0]]


def test_an_empty_batch_on_the_fast_path_enqueues_nothing(app: App) -> None:
    assert app.enqueue_specs([]) == []  # opens the store through the portal
    assert app.enqueue_specs([]) == []  # the caller's thread from now on
    assert len(app.enqueue_specs([app.spec_for("t")])) == 1


def test_close_closes_the_threads_connections(app: App) -> None:
    @app.task(name="work")
    def work() -> None:
        return None

    work.enqueue()
    work.enqueue()  # the fast path: this thread now holds a connection
    direct = app._direct
    assert direct is not None
    connections = direct.connections  # type: ignore[attr-defined]
    assert connections.open_count() == 1
    conn = connections.get()
    app.close()
    assert _is_closed(conn)
    assert work.enqueue().job.state is JobState.QUEUED  # a closed app opens again on use


def test_an_in_memory_database_keeps_the_portal_path() -> None:
    app = jobglass.App("sqlite:///:memory:")
    try:
        @app.task(name="work")
        def work() -> None:
            return None

        first = work.enqueue()
        second = work.enqueue()
        assert app._direct is None
        assert second.id == first.id + 1  # one database, not one per connection
        assert second.refresh().state is JobState.QUEUED
    finally:
        app.close()


def test_a_thread_that_ends_takes_its_connection_with_it(app: App) -> None:
    """A server that starts a thread per request must not pile up open connections."""

    @app.task(name="work")
    def work() -> None:
        return None

    work.enqueue()  # the portal path; from here on each thread opens its own connection

    def request() -> None:
        work.enqueue()

    for _ in range(20):
        thread = threading.Thread(target=request)
        thread.start()
        thread.join()
    direct = app._direct
    assert direct is not None
    assert direct.connections.open_count() == 0  # type: ignore[attr-defined]


def test_batches_the_fast_path_cannot_take_still_go_through_the_store(app: App) -> None:
    @app.task(name="work")
    def work() -> None:
        return None

    work.enqueue()
    first = work.with_options(unique_key="nightly").enqueue()
    again = work.with_options(unique_key="nightly").enqueue()
    assert again.id == first.id  # the unique key held, whichever path took it
    child = work.with_options(depends_on=[first.id]).enqueue()
    assert child.refresh().state is JobState.BLOCKED


def test_a_broken_postgres_connection_is_reported_and_replaced(tmp_path: Path) -> None:
    with app_on("postgres", tmp_path) as app:
        _broken_connection_is_replaced(app)


def _broken_connection_is_replaced(app: App) -> None:
    @app.task(name="work")
    def work() -> None:
        return None

    work.enqueue()
    work.enqueue()
    direct = app._direct
    assert direct is not None
    conn = direct.connections.get()  # type: ignore[attr-defined]
    with psycopg.connect(PG_URL, autocommit=True) as admin:  # the server drops it
        admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
    with pytest.raises(StoreUnavailable):
        work.enqueue()
    assert work.enqueue().refresh().state is JobState.QUEUED  # a fresh connection
    assert direct.connections.get() is not conn  # type: ignore[attr-defined]


def test_threads_beyond_the_limit_take_the_shared_path(app: App) -> None:
    """A server with many threads must not open a database connection per thread."""

    @app.task(name="work")
    def work() -> None:
        return None

    work.enqueue()
    direct = app._direct
    assert direct is not None
    direct.connections.limit = 2  # type: ignore[attr-defined]
    portal_calls = _count_portal_calls(app)
    handles: list[jobglass.JobHandle] = []
    together = threading.Barrier(6)  # all six alive at once, each holding what it got

    def producer() -> None:
        handles.append(work.enqueue())
        together.wait(timeout=10)

    threads = [threading.Thread(target=producer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({h.id for h in handles}) == 6
    assert len(portal_calls) == 4  # two threads had connections of their own
