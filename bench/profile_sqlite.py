"""Profile an in-process drain (or a batch enqueue) on SQLite with cProfile, every
thread separately.

    .venv/bin/python -m bench.profile_sqlite [--bench drain|enqueue] [--n 20000]
                                             [--task async|sync] [--top 25] [--save DIR]

N no-op jobs are enqueued, then a `Worker` (concurrency 100) runs on this
process's event loop until all have ended. cProfile only sees the thread that
enables it, so every thread started afterwards (the SQLite connection's thread,
the sync-task pool) gets its own profiler; the figures are printed per thread
group, with each function's share of that group's profiled time. Idle waits
(`epoll.poll` on the loop, lock waits in the pools) are part of that time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from types import FrameType
from typing import Any

from bench.bench_sqlite import BATCH, _prefill, drain_in_process_async
from bench.common import temp_db
from bench.tasks import NOOP_ASYNC, NOOP_SYNC, make_app

_profiles: list[tuple[str, cProfile.Profile]] = []
_lock = threading.Lock()


def _boot(frame: FrameType, event: str, arg: Any) -> None:
    """threading.setprofile hook: the first event in a new thread starts its profiler."""
    sys.setprofile(None)
    profile = cProfile.Profile()
    with _lock:
        _profiles.append((threading.current_thread().name, profile))
    profile.enable()


async def _enqueue(url: str, task: str, n: int) -> None:
    app = make_app(url)
    store = await app.astore()
    try:
        for start in range(0, n, BATCH):
            await store.enqueue_many([app.spec_for(task) for _ in range(min(BATCH, n - start))])
    finally:
        await app.aclose()


def _group(thread_name: str) -> str:
    for prefix in ("jobglass-sqlite", "jobglass-task", "jobglass-portal"):
        if thread_name.startswith(prefix):
            return prefix + " threads"
    return thread_name


def _stats_text(stats: pstats.Stats, sort: str, top: int) -> str:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]  # pstats has no public setter
    stats.sort_stats(sort).print_stats(top)
    return out.getvalue()


def _summary(name: str, stats: pstats.Stats, top: int) -> None:
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    raw = stats.stats  # type: ignore[attr-defined]  # undocumented but stable
    total = sum(v[2] for v in raw.values()) or 1e-9
    print(f"\n=== {name}: {total:.2f}s profiled (tottime sum) ===")
    print(f"{'tottime':>8} {'share':>6} {'cumtime':>8} {'calls':>9}  function")
    ordered = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    for (filename, line, func), (_, calls, tottime, cumtime, _) in ordered:
        where = _short(filename)
        print(f"{tottime:8.3f} {100 * tottime / total:5.1f}% {cumtime:8.3f} {calls:9d}  "
              f"{where}:{line}({func})")
    src = [(k, v) for k, v in raw.items() if "/jobglass/" in k[0]]
    if src:
        print(f"\n  jobglass functions by cumulative time (share of {name}):")
        for (filename, line, func), (_, calls, _tt, cumtime, _) in sorted(
                src, key=lambda kv: kv[1][3], reverse=True)[:top]:
            print(f"  {cumtime:8.3f} {100 * cumtime / total:5.1f}% {calls:9d}  "
                  f"{_short(filename)}:{line}({func})")


def _short(filename: str) -> str:
    if "/src/jobglass/" in filename:
        return "jobglass/" + filename.split("/src/jobglass/", 1)[1]
    if "/lib/python" in filename:
        return filename.split("/lib/python", 1)[1].split("/", 1)[-1]
    return filename


def main() -> None:
    parser = argparse.ArgumentParser(description="cProfile an in-process SQLite drain")
    parser.add_argument("--bench", choices=("drain", "enqueue"), default="drain",
                        help="drain: a Worker in this process; enqueue: spec_for +"
                             " store.enqueue_many in batches")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--task", choices=("async", "sync"), default="async")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", type=Path, help="also write <group>.prof files here")
    parser.add_argument("--raw", action="store_true", help="also print pstats' own tables")
    args = parser.parse_args()
    task = NOOP_ASYNC if args.task == "async" else NOOP_SYNC

    with temp_db() as db:
        if args.bench == "drain":
            _prefill(db, task, args.n)
        main_profile = cProfile.Profile()
        threading.setprofile(_boot)
        started = time.perf_counter()
        main_profile.enable()
        try:
            if args.bench == "drain":
                asyncio.run(drain_in_process_async(db, args.n))
            else:
                asyncio.run(_enqueue(db.url, task, args.n))
        finally:
            main_profile.disable()
            threading.setprofile(None)
        elapsed = time.perf_counter() - started

    done = "drained" if args.bench == "drain" else f"enqueued (batches of {BATCH:,})"
    print(f"{done} {args.n:,} {task} jobs in {elapsed:.2f}s under cProfile"
          f" ({args.n / elapsed:,.0f} jobs/s; the profiler slows Python code a lot)")
    groups: dict[str, list[cProfile.Profile]] = defaultdict(list)
    groups["MainThread (event loop)"].append(main_profile)
    for name, profile in _profiles:
        groups[_group(name)].append(profile)
    for name, profiles in groups.items():
        stats = pstats.Stats(profiles[0])
        for extra in profiles[1:]:
            stats.add(extra)
        _summary(f"{name} x{len(profiles)}", stats, args.top)
        if args.raw:
            print(_stats_text(stats, "cumulative", args.top))
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            stats.dump_stats(str(args.save / (name.split()[0] + ".prof")))


if __name__ == "__main__":
    main()
