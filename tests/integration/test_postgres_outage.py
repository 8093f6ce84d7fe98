"""After a long PostgreSQL outage a store works again as soon as the server does.

The outage is a TCP relay in front of the real server: it stops listening and cuts
every relayed connection, then listens again on the same port. psycopg_pool's own
reconnect delay doubles through an outage (1, 2, 4, 8 ... s); left alone, a worker
stayed deaf 8-16 s after 20-45 s outages, and a peer could reap it while alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import pytest
from pg import PG_URL, postgres_schema

from jobglass.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres
WaitFor = Callable[..., Awaitable[None]]

OUTAGE = 20.0  # seconds: long enough for the pool's doubling delay to reach 8 s


class Relay:
    """Forwards 127.0.0.1:<port> to the test server until `down()`."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    server = urlsplit(PG_URL)
    relay = Relay((server.hostname or "127.0.0.1", server.port or 5432))
    await relay.up()
    yield relay
    await relay.down()


async def test_a_store_works_again_at_once_after_a_long_outage(
        relay: Relay, wait_for: WaitFor, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="jobglass.store")
    async with postgres_schema() as url:
        parts = urlsplit(url)
        relayed = parts._replace(netloc=f"{parts.username}@127.0.0.1:{relay.port}").geturl()
        store = PostgresStore(relayed)
        await store.open()
        good: list[float] = []

        async def beat() -> None:  # a worker's heartbeat loop
            while True:
                with contextlib.suppress(Exception):
                    await store.heartbeat("w-outage", [])
                    good.append(time.monotonic())
                await asyncio.sleep(0.25)

        loop = asyncio.create_task(beat())
        try:
            await wait_for(lambda: bool(good), 10, message="a heartbeat before the outage")
            await relay.down()
            await asyncio.sleep(OUTAGE)  # the outage itself: its length is the scenario
            failed_since = len(good)
            await relay.up()
            back = time.monotonic()
            await wait_for(lambda: len(good) > failed_since, 5,
                           message="a heartbeat within 5 s of the server's return")
            assert good[-1] > back
            [back_line] = [r.getMessage() for r in caplog.records if r.name == "jobglass.store"]
            down_s = float(back_line.split(" after ")[1].removesuffix(" s"))
            assert OUTAGE <= down_s < OUTAGE + 10, back_line
        finally:
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
            await store.close()
