"""Tokens and scopes on every route, shell jobs only for admins of a server that
allows them, and the bind rules `jobglass serve` starts with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from apiclient import Api, serve_app

from jobglass.model import ConfigError
from jobglass.model.access import Scope
from jobglass.web import AuthMode, WebSettings, check_bind

# (method, path, json body, scope needed); {job} is a queued job's id
ROUTES: list[tuple[str, str, Any, Scope]] = [
    ("GET", "/api/jobs", None, Scope.READ),
    ("GET", "/api/jobs/{job}", None, Scope.READ),
    ("GET", "/api/queues", None, Scope.READ),
    ("GET", "/api/workers", None, Scope.READ),
    ("GET", "/api/health", None, Scope.READ),
    ("POST", "/api/jobs", {"task": "t"}, Scope.WRITE),
    ("POST", "/api/jobs/batch", {"jobs": [{"task": "t"}]}, Scope.WRITE),
    ("POST", "/api/jobs/{job}/cancel", None, Scope.WRITE),
    ("POST", "/api/jobs/{job}/retry", None, Scope.WRITE),
    ("POST", "/api/queues/default/pause", None, Scope.ADMIN),
    ("POST", "/api/queues/default/resume", None, Scope.ADMIN),
    ("POST", "/api/jobs", {"command": "echo hi"}, Scope.ADMIN),
    ("POST", "/api/jobs/batch", {"jobs": [{"task": "t"}, {"command": "echo hi"}]}, Scope.ADMIN),
]
MUTATING = [r for r in ROUTES if r[0] == "POST"]


async def call(api: Api, route: tuple[str, str, Any, Scope], headers: dict[str, str],
               job: int) -> int:
    method, path, body, _ = route
    r = await api.client.request(method, path.format(job=job), json=body, headers=headers)
    if r.status_code in (401, 403):
        assert r.headers["content-type"] == "application/problem+json"
    if r.status_code == 401:
        assert r.headers["www-authenticate"].startswith("Bearer")
    return r.status_code


async def test_every_route_checks_the_token_and_its_scope(tmp_path: Path) -> None:
    async with serve_app(tmp_path, WebSettings(allow_shell=True)) as api:
        job = (await api.client.post("/api/jobs", json={"task": "t"})).json()["id"]  # still open
        tokens = {s: await api.token(f"{s.value}-token", s) for s in Scope}
        for route in ROUTES:
            needed = route[3]
            assert await call(api, route, {}, job) == 401, route
            assert await call(api, route, {"Authorization": "Bearer jg_nope"}, job) == 401
            assert await call(api, route, {"Authorization": "Basic abc"}, job) == 401
            for scope, headers in tokens.items():
                status = await call(api, route, headers, job)
                if scope.allows(needed):
                    assert status not in (401, 403), (route, scope, status)
                else:
                    assert status == 403, (route, scope, status)
        # probes stay open for load balancers
        assert (await api.client.get("/healthz")).status_code == 200
        assert (await api.client.get("/readyz")).status_code == 200
        assert (await api.client.get("/openapi.json")).status_code == 200


async def test_a_revoked_token_is_refused_at_once(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        headers = await api.token("ci", Scope.WRITE)
        assert (await api.client.get("/api/jobs", headers=headers)).status_code == 200
        assert await (await api.store()).revoke_token("ci")
        assert (await api.client.get("/api/jobs", headers=headers)).status_code == 401
        # the last token is gone: a loopback server is open again
        assert (await api.client.get("/api/jobs")).status_code == 200


async def test_required_mode_without_tokens_lets_nobody_in(tmp_path: Path) -> None:
    async with serve_app(tmp_path, WebSettings(auth=AuthMode.REQUIRED)) as api:
        for route in ROUTES:
            assert await call(api, route, {}, 1) == 401, route


async def test_shell_jobs_need_admin_and_a_server_that_allows_them(tmp_path: Path) -> None:
    async with serve_app(tmp_path, WebSettings(allow_shell=False)) as api:
        admin = await api.token("root", Scope.ADMIN)
        refused = await api.client.post("/api/jobs", json={"command": "echo hi"}, headers=admin)
        assert refused.status_code == 403
        assert "--allow-shell" in refused.json()["detail"]
    (tmp_path / "second").mkdir()
    async with serve_app(tmp_path / "second", WebSettings(allow_shell=True)) as api:
        write = await api.token("w", Scope.WRITE)
        admin = await api.token("a", Scope.ADMIN)
        refused = await api.client.post("/api/jobs", json={"command": "echo hi"}, headers=write)
        assert refused.status_code == 403
        assert "admin" in refused.json()["detail"]
        made = await api.client.post("/api/jobs", json={"command": "echo hi", "timeout": 5},
                                     headers=admin)
        assert made.status_code == 201
        assert (made.json()["kind"], made.json()["command"]) == ("shell", "echo hi")
        # nothing was stored for the refused ones
        assert len((await api.client.get("/api/jobs", headers=admin)).json()["jobs"]) == 1


@pytest.mark.parametrize("route", MUTATING, ids=[f"{m} {p}" for m, p, _, _ in MUTATING])
async def test_cross_site_requests_may_not_change_anything(
        tmp_path: Path, route: tuple[str, str, Any, Scope]) -> None:
    async with serve_app(tmp_path, WebSettings(allow_shell=True)) as api:
        job = (await api.client.post("/api/jobs", json={"task": "t"})).json()["id"]
        evil = {"Origin": "https://evil.example"}
        assert await call(api, route, evil, job) == 403
        same = {"Origin": "http://testserver"}
        assert await call(api, route, same, job) not in (401, 403)


async def test_pause_and_resume(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        await api.client.post("/api/jobs", json={"task": "t", "queue": "mail"})
        paused = await api.client.post("/api/queues/mail/pause")
        assert paused.json()["paused"] is True
        assert paused.json()["counts"]["queued"] == 1
        store = await api.store()
        assert await store.claim("w", [], 5) == []  # workers honour it: nothing to claim
        resumed = await api.client.post("/api/queues/mail/resume")
        assert resumed.json()["paused"] is False
        assert len(await store.claim("w", [], 5)) == 1


def test_check_bind() -> None:
    assert check_bind("127.0.0.1", False, False)[0] is AuthMode.AUTO
    assert "without API tokens" in str(check_bind("127.0.0.1", False, False)[1])
    assert check_bind("::1", False, False)[0] is AuthMode.AUTO
    assert check_bind("localhost", True, False) == (AuthMode.AUTO, None)
    assert check_bind("0.0.0.0", True, False) == (AuthMode.REQUIRED, None)
    with pytest.raises(ConfigError, match="--insecure"):
        check_bind("0.0.0.0", False, False)
    mode, warning = check_bind("10.1.2.3", False, True)
    assert mode is AuthMode.AUTO
    assert "NO authentication" in str(warning)


def jobglass(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOBGLASS_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}
    return subprocess.run([sys.executable, "-m", "jobglass", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_tokens_from_the_cli_and_serve_refusing_a_public_address(tmp_path: Path) -> None:
    refused = jobglass(tmp_path, "serve", "--host", "0.0.0.0", "--port", "0")
    assert refused.returncode == 2
    assert "--insecure" in refused.stderr

    made = jobglass(tmp_path, "token", "create", "--name", "ci", "--scope", "write", "--json")
    assert made.returncode == 0, made.stderr
    secret = json.loads(made.stdout)["token"]
    assert secret.startswith("jg_")
    listed = jobglass(tmp_path, "token", "list", "--json")
    assert secret not in listed.stdout
    assert json.loads(listed.stdout)[0]["scope"] == "write"
    again = jobglass(tmp_path, "token", "create", "--name", "ci")
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert jobglass(tmp_path, "token", "revoke", "ci").returncode == 0
    gone = jobglass(tmp_path, "token", "revoke", "ci")
    assert gone.returncode == 2
    assert "no active token" in gone.stderr
    bad_scope = jobglass(tmp_path, "token", "create", "--name", "x", "--scope", "root")
    assert bad_scope.returncode != 0
