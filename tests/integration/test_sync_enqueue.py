"""The sync API's enqueue on SQLite runs on the caller's thread, on a connection of
its own, once the first call has opened (and migrated) the store through the portal."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jobglass
from jobglass import App, JobState
from jobglass.observe.events import JobEnqueued
from jobglass.observe.observer import Recorder


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    app = jobglass.App(f"sqlite:///{tmp_path}/jobs.db")
    yield app
    app.close()


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


def test_close_closes_the_threads_connections(app: App) -> None:
    @app.task(name="work")
    def work() -> None:
        return None

    work.enqueue()
    work.enqueue()  # the fast path: this thread now holds a connection
    direct = app._direct
    assert direct is not None
    held = list(direct._held)  # type: ignore[attr-defined]
    assert len(held) == 1
    app.close()
    with pytest.raises(sqlite3.ProgrammingError):
        held[0].db.execute("SELECT 1")
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
    assert len(direct._held) == 0  # type: ignore[attr-defined]  # closed as each thread ended
