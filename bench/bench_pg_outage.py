"""How long a worker's store stays unusable after PostgreSQL comes back.

    .venv/bin/python -m bench.bench_pg_outage [--outages 10,20,45] [--rounds 2]

STOPS AND STARTS the local PostgreSQL cluster on the test port (pg_ctlcluster, as
root): run it on a machine where nothing else needs that server meanwhile.

A heartbeat loop (every 0.5 s, like a worker's) runs against a throw-away schema
while the server is stopped for each outage length; the figure is the time from the
server accepting connections again to the first heartbeat that succeeds. A worker
that stays deaf longer than its peers' lease after an outage is reaped while alive.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import statistics
import subprocess
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import psycopg

from bench.bench_postgres import DEFAULT_URL, _with_schema
from jobglass.store.postgres import PostgresStore

BEAT = 0.5
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)  # its per-attempt warnings


def _cluster(url: str) -> tuple[str, str]:
    out = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                         check=True).stdout
    port = str(urlsplit(url).port or 5432)
    for line in out.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return version, name
    raise SystemExit(f"no local cluster on port {port}")


def _pg_ctl(cluster: tuple[str, str], action: str) -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action],
                   check=True, capture_output=True, timeout=120)


def _accepting(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=1):
            return True
    except psycopg.OperationalError:
        return False


async def _poll(check: Callable[[], bool], limit: float = 120) -> None:
    """Wait (polling every 20 ms) until `check()` is true; give up after `limit` s."""
    deadline = time.monotonic() + limit
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise SystemExit(f"still waiting after {limit} s")
        await asyncio.sleep(0.02)


async def recovery_after(server: str, store_url: str, cluster: tuple[str, str],
                         outage: float) -> float:
    """Seconds from the server accepting connections to the first good heartbeat."""
    store = PostgresStore(store_url)
    await store.open()
    good: list[float] = []

    async def beat() -> None:
        while True:
            with contextlib.suppress(Exception):  # failing is the point; successes count
                await store.heartbeat("bench-outage", [])
                good.append(time.monotonic())
            await asyncio.sleep(BEAT)

    loop = asyncio.create_task(beat())
    try:
        await asyncio.sleep(2 * BEAT)
        await asyncio.to_thread(_pg_ctl, cluster, "stop")
        await asyncio.sleep(outage)
        await asyncio.to_thread(_pg_ctl, cluster, "start")
        await _poll(lambda: _accepting(server))
        up = time.monotonic()
        await _poll(lambda: bool(good) and good[-1] > up)
        return next(t for t in good if t > up) - up
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--outages", default="10,20,45", help="seconds, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    cluster = _cluster(args.url)
    schema = f"bench_outage_{secrets.token_hex(3)}"
    url = _with_schema(args.url, schema)
    print(f"heartbeat every {BEAT} s; recovery = server accepting again -> first good beat")
    try:
        for outage in (float(x) for x in args.outages.split(",")):
            figures = [await recovery_after(args.url, url, cluster, outage)
                       for _ in range(args.rounds)]
            print(f"outage {outage:5.0f} s: recovery median {statistics.median(figures):.2f} s,"
                  f" worst {max(figures):.2f} s over {len(figures)} rounds")
    finally:
        if not _accepting(args.url):
            _pg_ctl(cluster, "start")
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    asyncio.run(main())
