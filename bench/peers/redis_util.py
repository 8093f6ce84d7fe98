"""Redis helpers of the Redis peers (peers venv: redis-py)."""

from __future__ import annotations

import redis

from bench.peers.base import REDIS_URL


def client() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL)


def flush() -> None:
    """Empty the bench's own Redis database (BENCH_REDIS_URL, db 13 by default)."""
    r = client()
    r.flushdb()
    r.close()
