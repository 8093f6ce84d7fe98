"""The `Store` contract for stored job logs (`append_logs`, `read_logs`, and prune
taking a job's lines with it), through the `store` fixture: every backend.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jobglass.model import Job, JobSpec, LogLine, Outcome
from jobglass.store import Report, Store

T0 = 1_700_000_000.0


async def add(store: Store, *, now: float = T0, **fields: Any) -> Job:
    [job] = await store.enqueue_many([JobSpec(task="t", **fields)], now=now)
    return job


def line(job_id: int, message: str, *, attempt: int = 1, ts: float = T0, level: str = "info",
         stream: str = "log", fields: dict[str, Any] | None = None) -> LogLine:
    return LogLine(job_id=job_id, attempt=attempt, ts=ts, level=level, stream=stream,
                   message=message, fields=fields)


def messages(lines: list[LogLine]) -> list[str]:
    return [ln.message for ln in lines]


async def test_lines_come_back_in_the_order_appended_with_rising_ids(store: Store) -> None:
    job = await add(store)
    await store.append_logs([line(job.id, f"m{i}", ts=T0 + i) for i in range(5)])
    await store.append_logs([line(job.id, "m5", ts=T0 + 5)])
    got = await store.read_logs(job.id)
    assert messages(got) == [f"m{i}" for i in range(6)]
    ids = [ln.id for ln in got]
    assert all(isinstance(i, int) for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == 6
    assert [ln.ts for ln in got] == [T0 + i for i in range(6)]
    assert all(ln.job_id == job.id and ln.attempt == 1 for ln in got)


async def test_one_batch_keeps_its_order_across_jobs_and_attempts(store: Store) -> None:
    a, b = await add(store), await add(store)
    batch = [line(a.id, "a1"), line(b.id, "b1"), line(a.id, "a2", attempt=2),
             line(b.id, "b2"), line(a.id, "a3")]
    await store.append_logs(batch)
    assert messages(await store.read_logs(a.id)) == ["a1", "a2", "a3"]
    assert messages(await store.read_logs(b.id)) == ["b1", "b2"]


async def test_appending_nothing_is_a_no_op(store: Store) -> None:
    job = await add(store)
    await store.append_logs([])
    assert await store.read_logs(job.id) == []


async def test_reading_a_job_without_lines_or_a_missing_job_is_empty(store: Store) -> None:
    job = await add(store)
    assert await store.read_logs(job.id) == []
    assert await store.read_logs(job.id + 1000) == []


async def test_attempt_filter_reads_one_attempt(store: Store) -> None:
    job = await add(store)
    await store.append_logs([line(job.id, "first try", attempt=1),
                             line(job.id, "second try", attempt=2),
                             line(job.id, "first again", attempt=1),
                             line(job.id, "third", attempt=3)])
    assert messages(await store.read_logs(job.id, attempt=1)) == ["first try", "first again"]
    assert messages(await store.read_logs(job.id, attempt=2)) == ["second try"]
    assert messages(await store.read_logs(job.id, attempt=3)) == ["third"]
    assert await store.read_logs(job.id, attempt=4) == []
    assert messages(await store.read_logs(job.id)) == [
        "first try", "second try", "first again", "third"]


async def test_after_id_is_a_cursor(store: Store) -> None:
    job = await add(store)
    await store.append_logs([line(job.id, f"m{i}") for i in range(4)])
    first = await store.read_logs(job.id)
    assert await store.read_logs(job.id, after_id=first[-1].id or 0) == []
    assert messages(await store.read_logs(job.id, after_id=first[1].id or 0)) == ["m2", "m3"]
    # Lines appended later show up after the cursor (a `logs -f` loop).
    await store.append_logs([line(job.id, "m4"), line(job.id, "late", attempt=2)])
    assert messages(await store.read_logs(job.id, after_id=first[-1].id or 0)) == ["m4", "late"]
    assert messages(await store.read_logs(job.id, attempt=2,
                                          after_id=first[-1].id or 0)) == ["late"]


async def test_limit_caps_a_read_and_paging_with_the_cursor_reads_all(store: Store) -> None:
    job = await add(store)
    await store.append_logs([line(job.id, f"m{i}") for i in range(25)])
    assert messages(await store.read_logs(job.id, limit=3)) == ["m0", "m1", "m2"]
    assert await store.read_logs(job.id, limit=0) == []
    seen: list[str] = []
    cursor = 0
    while page := await store.read_logs(job.id, after_id=cursor, limit=10):
        assert len(page) <= 10
        seen += messages(page)
        cursor = page[-1].id or 0
    assert seen == [f"m{i}" for i in range(25)]
    assert len(await store.read_logs(job.id)) == 25  # the default limit is 1000


async def test_default_limit_is_a_thousand(store: Store) -> None:
    job = await add(store)
    await store.append_logs([line(job.id, f"m{i}") for i in range(1005)])
    got = await store.read_logs(job.id)
    assert len(got) == 1000
    assert got[-1].message == "m999"
    rest = await store.read_logs(job.id, after_id=got[-1].id or 0)
    assert messages(rest) == [f"m{i}" for i in range(1000, 1005)]


async def test_every_field_round_trips(store: Store) -> None:
    job = await add(store)
    fields = {"user": "ada", "count": 3, "ratio": 0.5, "ok": True, "none": None,
              "nested": {"list": [1, "two", {"three": 3.0}]}, "unicode": "żółw ✓"}
    sent = [
        line(job.id, "with fields", attempt=2, ts=T0 + 0.125, level="warning", stream="log",
             fields=fields),
        line(job.id, "stdout line", attempt=2, ts=T0 + 1.5, level="info", stream="stdout"),
        line(job.id, "boom", attempt=2, ts=T0 + 2.25, level="error", stream="stderr"),
        line(job.id, "", attempt=2, ts=T0 + 3, level="debug", stream="system"),
        line(job.id, "quotes ' \" \\ and\ttabs", attempt=2, stream="progress"),
    ]
    await store.append_logs(sent)
    got = await store.read_logs(job.id, attempt=2)
    assert len(got) == len(sent)
    for want, have in zip(sent, got, strict=True):
        assert (have.job_id, have.attempt, have.ts, have.level, have.stream, have.message) == (
            want.job_id, want.attempt, want.ts, want.level, want.stream, want.message)
    assert got[0].fields == fields
    assert all(ln.fields is None for ln in got[1:])


async def test_empty_fields_read_back_as_none(store: Store) -> None:
    job = await add(store)
    await store.append_logs([line(job.id, "x", fields={})])
    [got] = await store.read_logs(job.id)
    assert got.fields is None


async def test_nul_characters_do_not_break_a_batch(store: Store) -> None:
    """Captured output can hold NUL; PostgreSQL cannot store it in text, so it may
    be replaced, but the batch (and the lines around it) must be stored."""
    job = await add(store)
    await store.append_logs([line(job.id, "before"), line(job.id, "a\x00b",
                                                          fields={"k\x00": "v\x00"}),
                             line(job.id, "after")])
    got = await store.read_logs(job.id)
    assert messages(got)[0] == "before"
    assert messages(got)[2] == "after"
    assert got[1].message.startswith("a")
    assert got[1].message.endswith("b")
    assert got[1].fields is not None
    assert len(got[1].fields) == 1


async def test_concurrent_appends_all_land(store: Store) -> None:
    job = await add(store)
    await asyncio.gather(*(store.append_logs([line(job.id, f"{w}-{i}") for i in range(50)])
                           for w in range(8)))
    got = await store.read_logs(job.id, limit=10_000)
    assert sorted(messages(got)) == sorted(f"{w}-{i}" for w in range(8) for i in range(50))
    for w in range(8):  # each batch keeps its own order
        mine = [m for m in messages(got) if m.startswith(f"{w}-")]
        assert mine == [f"{w}-{i}" for i in range(50)]


async def test_prune_deletes_the_lines_of_pruned_jobs_only(store: Store) -> None:
    old = await add(store, now=T0 - 1000)
    [claimed] = await store.claim("w1", [], 1, now=T0 - 1000)
    assert claimed.id == old.id
    assert claimed.lease is not None
    [applied] = await store.finish_many(
        [Report(job_id=old.id, lease=claimed.lease, outcome=Outcome.SUCCEEDED)], now=T0 - 900)
    assert applied
    recent = await add(store, now=T0 - 10)
    queued = await add(store, now=T0 - 5000)
    await store.append_logs([line(old.id, "old 1"), line(recent.id, "recent"),
                             line(old.id, "old 2", attempt=2), line(queued.id, "queued")])

    assert await store.prune(T0 - 100) == 1
    assert await store.read_logs(old.id) == []
    assert await store.read_logs(old.id, attempt=2) == []
    assert messages(await store.read_logs(recent.id)) == ["recent"]
    assert messages(await store.read_logs(queued.id)) == ["queued"]


@pytest.mark.parametrize("attempt", [None, 1])
async def test_ids_are_unique_across_jobs(store: Store, attempt: int | None) -> None:
    a, b = await add(store), await add(store)
    await store.append_logs([line(a.id, "a"), line(b.id, "b"), line(a.id, "a2")])
    ids = [ln.id for ln in await store.read_logs(a.id, attempt=attempt)]
    ids += [ln.id for ln in await store.read_logs(b.id, attempt=attempt)]
    assert len(set(ids)) == 3
