"""GET /api/jobs/{id}/logs pages an attempt's stored log; /logs/stream tails it over
Server-Sent Events and ends when the job does."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import jobglass
from jobglass.model import LogLine
from jobglass.store import Report, Store
from jobglass.web import WebSettings, create_app


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    app = jobglass.App(f"sqlite:///{tmp_path}/logs.db")
    web = create_app(app, WebSettings(close_store=False))
    store = await app.astore()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                 base_url="http://test") as client:
        yield client, store
    await app.aclose()


async def running_job(store: Store) -> jobglass.Job:
    await store.enqueue_many([jobglass.JobSpec(task="t")])
    return (await store.claim("w", [], 1))[0]


def line(job: jobglass.Job, attempt: int, message: str) -> LogLine:
    return LogLine(job.id, attempt, time.time(), "info", "stdout", message)


async def test_pages_by_cursor_and_filters_by_attempt(
        api: tuple[httpx.AsyncClient, Store]) -> None:
    client, store = api
    job = await running_job(store)
    await store.append_logs([line(job, 1, f"one-{i}") for i in range(3)]
                            + [line(job, 2, "two-0")])
    first = (await client.get(f"/api/jobs/{job.id}/logs", params={"limit": 2})).json()
    assert [ln["message"] for ln in first["lines"]] == ["one-0", "one-1"]
    assert first["state"] == "running"
    rest = (await client.get(f"/api/jobs/{job.id}/logs",
                             params={"cursor": first["next_cursor"]})).json()
    assert [ln["message"] for ln in rest["lines"]] == ["one-2", "two-0"]
    assert rest["next_cursor"] is None
    only_two = (await client.get(f"/api/jobs/{job.id}/logs", params={"attempt": 2})).json()
    assert [ln["message"] for ln in only_two["lines"]] == ["two-0"]


async def test_unknown_job_and_bad_cursor_are_problems(
        api: tuple[httpx.AsyncClient, Store]) -> None:
    client, _ = api
    missing = await client.get("/api/jobs/999/logs")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    job = await running_job(api[1])
    bad = await client.get(f"/api/jobs/{job.id}/logs", params={"cursor": "soon"})
    assert bad.status_code == 422


def events(body: str) -> list[tuple[str, dict[str, object]]]:
    found = []
    for block in body.split("\n\n"):
        kind = next((ln[7:] for ln in block.splitlines() if ln.startswith("event: ")), None)
        data = next((ln[6:] for ln in block.splitlines() if ln.startswith("data: ")), None)
        if kind and data:
            found.append((kind, json.loads(data)))
    return found


async def test_stream_follows_a_running_job_until_it_ends(
        api: tuple[httpx.AsyncClient, Store]) -> None:
    client, store = api
    job = await running_job(store)
    await store.append_logs([line(job, 1, "before")])

    async def finish_later() -> None:
        await store.append_logs([line(job, 1, "while following")])
        await store.finish_many([Report(job.id, job.lease or "", jobglass.Outcome.SUCCEEDED)])

    follow = asyncio.create_task(client.get(f"/api/jobs/{job.id}/logs/stream",
                                            params={"timeout": 30}))
    await finish_later()
    response = await asyncio.wait_for(follow, 30)
    assert response.headers["content-type"].startswith("text/event-stream")
    got = events(response.text)
    assert [d["message"] for k, d in got if k == "line"] == ["before", "while following"]
    assert got[-1] == ("end", {"state": "succeeded"})


async def test_stream_resumes_after_last_event_id(
        api: tuple[httpx.AsyncClient, Store]) -> None:
    client, store = api
    job = await running_job(store)
    await store.append_logs([line(job, 1, f"n{i}") for i in range(3)])
    await store.finish_many([Report(job.id, job.lease or "", jobglass.Outcome.SUCCEEDED)])
    lines = (await client.get(f"/api/jobs/{job.id}/logs")).json()["lines"]
    response = await client.get(f"/api/jobs/{job.id}/logs/stream",
                                headers={"Last-Event-ID": str(lines[0]["id"])})
    assert [d["message"] for k, d in events(response.text) if k == "line"] == ["n1", "n2"]
