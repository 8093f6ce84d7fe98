"""The HTTP API in this process for integration tests: `create_app` on a fresh SQLite
file, driven through httpx's ASGI transport (no socket, no server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

import jobglass
from jobglass.model.access import Scope, hash_token, new_token
from jobglass.store import Store
from jobglass.web import WebSettings, create_app


class Api:
    def __init__(self, client: httpx.AsyncClient, app: jobglass.App) -> None:
        self.client = client
        self.app = app

    async def store(self) -> Store:
        return await self.app.astore()

    async def token(self, name: str, scope: Scope) -> dict[str, str]:
        """A new token of `scope`, as the headers that send it."""
        secret = new_token()
        await (await self.store()).create_token(name, scope, hash_token(secret))
        return {"Authorization": f"Bearer {secret}"}


@asynccontextmanager
async def serve_app(tmp_path: Path, settings: WebSettings | None = None, *,
                    url: str | None = None, app: jobglass.App | None = None
                    ) -> AsyncIterator[Api]:
    jobs_app = app or jobglass.App(url or f"sqlite:///{tmp_path}/api.db")
    web = create_app(jobs_app, settings or WebSettings())
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        try:
            yield Api(client, jobs_app)
        finally:
            await jobs_app.aclose()
