"""The dashboard over httpx's ASGI transport (no browser): every page renders, output is
escaped, access follows the API's rules (open server, login, scopes), every POST needs
the session's CSRF token, filters and keyset pages work, errors are HTML pages."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from apiclient import Api, serve_app

from jobglass.model import JobSpec, JobState, LogLine, Outcome, WorkerInfo
from jobglass.model.access import Scope, hash_token, new_token
from jobglass.store import Report, Store
from jobglass.web import AuthMode, WebSettings
from jobglass.web.dashboard.session import COOKIE

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def add(store: Store, **fields: object) -> int:
    [job] = await store.enqueue_many([JobSpec(task=str(fields.pop("task", "t.x")),
                                              **fields)])  # type: ignore[arg-type]
    return job.id


async def login(api: Api, scope: Scope, name: str = "person") -> str:
    secret = new_token()
    await (await api.store()).create_token(name, scope, hash_token(secret))
    page = await api.client.get("/login")
    reply = await api.client.post("/login", data={"token": secret, "csrf": csrf_of(page.text),
                                                  "next": "/"})
    assert reply.status_code == 303, reply.text
    return secret


async def test_every_page_renders_on_an_open_server(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        store = await api.store()
        parent = await add(store, queue="etl")
        child = await add(store, queue="etl", depends_on=[parent])
        await store.register_worker(WorkerInfo(id="w1", host="h", pid=1, queues=[],
                                               started_at=0, last_heartbeat=0,
                                               state="running", lease=120.0))
        for path in ("/", "/jobs", f"/jobs/{parent}", f"/jobs/{child}", "/workers", "/queues",
                     "/queues/etl", f"/jobs/{parent}/logs/tail?attempt=1&after=0"):
            reply = await api.client.get(path)
            assert reply.status_code == 200, (path, reply.text[:500])
            assert reply.headers["content-type"].startswith("text/html")
            assert "default-src 'self'" in reply.headers["content-security-policy"]
        page = (await api.client.get("/workers")).text
        assert "of a 2m 00s lease" in page  # the silence it is allowed before it counts as dead
        page = (await api.client.get(f"/jobs/{parent}")).text
        assert f'href="/jobs/{child}"' in page  # children are listed
        page = (await api.client.get(f"/jobs/{child}")).text
        assert f'href="/jobs/{parent}"' in page
        css = await api.client.get("/_static/dashboard.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        for asset in ("vendor/htmx/htmx.min.js", "vendor/uplot/uPlot.iife.min.js",
                      "dashboard.js"):
            assert (await api.client.get(f"/_static/{asset}")).status_code == 200
        assert (await api.client.get("/api/jobs")).status_code == 200  # the API is still there


async def test_arguments_and_logs_are_escaped(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        store = await api.store()
        job_id = await add(store, task="t.<img src=x onerror=alert(1)>",
                           args=["<script>alert('args')</script>"],
                           kwargs={"note": "</script><b>x</b>", "password": "hunter2"})
        await store.append_logs([LogLine(job_id, 1, 0.0, "info", "log",
                                         "<script>alert('log')</script>")])
        for path in ("/jobs", f"/jobs/{job_id}"):
            html = (await api.client.get(path)).text
            assert "<script>alert" not in html
            assert "<img src=x" not in html
            assert "</script><b>" not in html
            assert "&lt;script&gt;alert(&#39;args&#39;)" in html
            assert "hunter2" not in html  # redacted
        tail = (await api.client.get(f"/jobs/{job_id}/logs/tail?attempt=1")).text
        assert "&lt;script&gt;alert(&#39;log&#39;)" in tail
        assert "<script>alert" not in tail


async def test_an_unknown_job_is_a_404_page(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        for path in ("/jobs/424242", "/jobs/0", "/jobs/99999999999999999999", "/jobs/abc"):
            reply = await api.client.get(path)
            assert reply.status_code == 404, path
            assert reply.headers["content-type"].startswith("text/html"), path
            assert "Not Found" in reply.text
        assert (await api.client.get("/queues/nothing-here")).status_code == 404


async def test_a_post_without_the_csrf_token_is_refused(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        store = await api.store()
        job_id = await add(store)
        page = await api.client.get(f"/jobs/{job_id}")  # sets the session cookie
        assert COOKIE in api.client.cookies
        token = csrf_of(page.text)
        url = f"/jobs/{job_id}/cancel"
        for body in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": token + "x"}):
            reply = await api.client.post(url, data=body)
            assert reply.status_code == 403, body
            assert "CSRF" in reply.text
        cross = await api.client.post(url, data={"csrf": token},
                                      headers={"Origin": "http://evil.example"})
        assert cross.status_code == 403
        assert (await store.get(job_id)).state is JobState.QUEUED
        # another session's token is no good either
        async with httpx.AsyncClient(transport=api.client._transport,
                                     base_url="http://testserver") as other:
            await other.get("/")
            assert (await other.post(url, data={"csrf": token})).status_code == 403
        done = await api.client.post(url, data={"csrf": token})
        assert done.status_code == 303
        assert done.headers["location"] == f"/jobs/{job_id}"
        assert (await store.get(job_id)).state is JobState.CANCELLED


async def test_a_post_with_no_session_is_refused(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        job_id = await add(await api.store())
        reply = await api.client.post(f"/jobs/{job_id}/cancel", data={"csrf": "x"})
        assert reply.status_code == 403


async def test_login_sets_an_httponly_cookie_and_logout_ends_it(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        store = await api.store()
        secret = new_token()
        await store.create_token("ops", Scope.ADMIN, hash_token(secret))
        first = await api.client.get("/jobs?queue=x")
        assert first.status_code == 303
        assert first.headers["location"] == "/login?next=%2Fjobs%3Fqueue%3Dx"
        form = await api.client.get("/login")
        assert form.status_code == 200
        wrong = await api.client.post("/login", data={"token": "jg_nope",
                                                      "csrf": csrf_of(form.text)})
        assert wrong.status_code == 401
        assert "unknown or revoked" in wrong.text
        before = api.client.cookies[COOKIE]
        ok = await api.client.post("/login", data={"token": secret, "csrf": csrf_of(form.text),
                                                   "next": "/jobs?queue=x"})
        assert ok.status_code == 303
        assert ok.headers["location"] == "/jobs?queue=x"
        cookie = ok.headers["set-cookie"]
        assert "httponly" in cookie.lower()
        assert "samesite=lax" in cookie.lower()
        assert secret not in cookie
        assert api.client.cookies[COOKIE] != before  # a new session id after login
        home = await api.client.get("/")
        assert home.status_code == 200
        assert "ops" in home.text
        bye = await api.client.post("/logout", data={"csrf": csrf_of(home.text)})
        assert bye.status_code == 303
        assert (await api.client.get("/")).status_code == 303


async def test_login_only_redirects_within_the_site(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        secret = new_token()
        await (await api.store()).create_token("ops", Scope.READ, hash_token(secret))
        for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
            form = await api.client.get("/login")
            reply = await api.client.post("/login", data={
                "token": secret, "csrf": csrf_of(form.text), "next": target})
            assert reply.headers["location"] == "/"
            await api.client.post("/logout", data={"csrf": csrf_of(
                (await api.client.get("/")).text)})


async def test_a_revoked_token_or_a_tampered_cookie_ends_the_session(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        await login(api, Scope.WRITE, name="temp")
        assert (await api.client.get("/")).status_code == 200
        cookie = api.client.cookies[COOKIE]
        body, mac = cookie.split(".")
        api.client.cookies.set(COOKIE, body[:-2] + "xx." + mac)
        assert (await api.client.get("/")).status_code == 303
        api.client.cookies.set(COOKIE, cookie)
        assert (await api.client.get("/")).status_code == 200
        store = await api.store()
        await store.create_token("other", Scope.READ, hash_token(new_token()))
        assert await store.revoke_token("temp")
        assert (await api.client.get("/")).status_code == 303
        assert await store.revoke_token("other")  # no token left: open, like the API
        assert (await api.client.get("/")).status_code == 200


async def test_a_read_only_token_sees_no_forms_and_may_not_post(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        store = await api.store()
        queued = await add(store, queue="q")
        await login(api, Scope.READ)
        for path in (f"/jobs/{queued}", "/queues", "/queues/q", "/"):
            html = (await api.client.get(path)).text
            for action in ("/cancel", "/retry", "/pause", "/resume"):
                assert action not in html, (path, action)
            assert html.count('method="post"') == 1, path  # the logout form only
        token = csrf_of((await api.client.get("/")).text)
        assert (await api.client.post(f"/jobs/{queued}/cancel",
                                      data={"csrf": token})).status_code == 403
        assert (await api.client.post("/queues/q/pause",
                                      data={"csrf": token})).status_code == 403
        assert (await store.get(queued)).state is JobState.QUEUED


async def test_write_may_cancel_but_only_admin_may_pause(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        store = await api.store()
        queued = await add(store, queue="q")
        await login(api, Scope.WRITE)
        html = (await api.client.get(f"/jobs/{queued}")).text
        assert f'action="/jobs/{queued}/cancel"' in html
        assert "/pause" not in (await api.client.get("/queues")).text
        token = csrf_of(html)
        assert (await api.client.post("/queues/q/pause",
                                      data={"csrf": token})).status_code == 403
        await api.client.post("/logout", data={"csrf": token})
        await login(api, Scope.ADMIN, name="root")
        token = csrf_of((await api.client.get("/queues")).text)
        reply = await api.client.post("/queues/q/pause", data={"csrf": token, "back": "queue"})
        assert reply.status_code == 303
        assert reply.headers["location"] == "/queues/q"
        assert [q.paused for q in await store.queue_stats() if q.queue == "q"] == [True]
        assert "Resume" in (await api.client.get("/queues")).text
        await api.client.post("/queues/q/resume", data={"csrf": token})
        assert [q.paused for q in await store.queue_stats() if q.queue == "q"] == [False]


async def test_a_server_that_requires_tokens_but_has_none_lets_nobody_in(tmp_path: Path
                                                                        ) -> None:
    async with serve_app(tmp_path, WebSettings(auth=AuthMode.REQUIRED)) as api:
        await add(await api.store())
        assert (await api.client.get("/")).status_code == 303
        assert (await api.client.get("/login")).status_code == 200


async def test_filters_and_keyset_pages(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        store = await api.store()
        specs = [JobSpec(task=f"t.{i % 3}", queue=f"q{i % 2}",
                         request_id="req-7" if i % 10 == 0 else None) for i in range(130)]
        jobs = await store.enqueue_many(specs)
        ids = [j.id for j in jobs]

        def listed(html: str) -> list[int]:
            return [int(x) for x in re.findall(r'<a class="mono jid" href="/jobs/(\d+)"', html)]

        first = (await api.client.get("/jobs")).text
        assert listed(first) == sorted(ids, reverse=True)[:50]
        older = re.search(r'href="(/jobs\?before=\d+)" rel="next"', first)
        assert older
        second = (await api.client.get(older.group(1).replace("&amp;", "&"))).text
        assert listed(second) == sorted(ids, reverse=True)[50:100]
        assert "Newest" in second

        q0 = (await api.client.get("/jobs?queue=q0&task=t.1")).text
        want = sorted((j.id for j in jobs if j.queue == "q0" and j.task == "t.1"), reverse=True)
        assert listed(q0) == want
        by_request = listed((await api.client.get("/jobs?request_id=req-7")).text)
        assert by_request == sorted((j.id for j in jobs if j.request_id == "req-7"),
                                    reverse=True)

        lease_job = (await store.claim("w", [], 1))[0]
        await store.finish_many([Report(lease_job.id, lease_job.lease or "", Outcome.FAILED)])
        failed = listed((await api.client.get("/jobs?state=failed")).text)
        assert failed == [lease_job.id]
        both = listed((await api.client.get("/jobs?state=failed&state=succeeded")).text)
        assert both == [lease_job.id]
        paged = (await api.client.get("/jobs?queue=q1&state=queued")).text
        nxt = re.search(r'href="(/jobs\?[^"]*before=\d+)" rel="next"', paged)
        assert nxt
        assert "queue=q1" in nxt.group(1)
        assert "state=queued" in nxt.group(1)

        jump = await api.client.get(f"/jobs?id={ids[5]}")
        assert jump.status_code == 303
        assert jump.headers["location"] == f"/jobs/{ids[5]}"
        assert (await api.client.get("/jobs?state=bogus")).status_code == 422
        assert (await api.client.get("/jobs?id=abc")).status_code == 422
        assert (await api.client.get("/jobs?before=-1")).status_code == 422


async def test_a_running_attempts_tail_returns_new_lines_and_keeps_polling(tmp_path: Path
                                                                          ) -> None:
    async with serve_app(tmp_path) as api:
        store = await api.store()
        job_id = await add(store)
        [job] = await store.claim("w", [], 1)
        await store.append_logs([LogLine(job_id, 1, 1.0, "info", "log", "one"),
                                 LogLine(job_id, 1, 2.0, "info", "log", "two")])
        page = (await api.client.get(f"/jobs/{job_id}")).text
        assert "one" in page
        assert "two" in page
        after = int(re.findall(r'id="log-(\d+)"', page)[-1])
        assert f"after={after}" in page  # the poller starts from the last line shown
        empty = (await api.client.get(f"/jobs/{job_id}/logs/tail?attempt=1&after={after}"))
        assert 'class="poller"' in empty.text
        await store.append_logs([LogLine(job_id, 1, 3.0, "warning", "log", "three")])
        more = (await api.client.get(f"/jobs/{job_id}/logs/tail?attempt=1&after={after}")).text
        assert "three" in more
        assert "two" not in more
        assert 'class="poller"' in more
        await store.finish_many([Report(job.id, job.lease or "", Outcome.SUCCEEDED)])
        done = (await api.client.get(f"/jobs/{job_id}/logs/tail?attempt=1&after={after}")).text
        assert "three" in done
        assert "poller" not in done  # the attempt ended: no more polling


async def test_the_trace_id_links_out_through_the_template(tmp_path: Path) -> None:
    settings = WebSettings(trace_url="https://tempo.example/explore?trace={trace_id}")
    async with serve_app(tmp_path, settings) as api:
        tid = "4bf92f3577b34da6a3ce929d0e0e4736"
        job_id = await add(await api.store(), traceparent=f"00-{tid}-00f067aa0ba902b7-01")
        html = (await api.client.get(f"/jobs/{job_id}")).text
        assert f'href="https://tempo.example/explore?trace={tid}"' in html
    (tmp_path / "plain").mkdir()
    async with serve_app(tmp_path / "plain") as api:
        job_id = await add(await api.store(), traceparent=f"00-{tid}-00f067aa0ba902b7-01")
        html = (await api.client.get(f"/jobs/{job_id}")).text
        assert tid in html
        assert "tempo" not in html


async def test_a_rare_filter_searches_history_one_window_at_a_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobglass.web.dashboard import pages_jobs

    monkeypatch.setattr(pages_jobs, "SCAN_WINDOW", 20)
    async with serve_app(tmp_path) as api:
        store = await api.store()
        jobs = await store.enqueue_many([JobSpec(task="t.rare" if i < 3 else "t.common")
                                         for i in range(60)])
        rare = sorted((j.id for j in jobs if j.task == "t.rare"), reverse=True)
        url = "/jobs?task=t.rare"
        seen: list[int] = []
        for _ in range(5):
            html = (await api.client.get(url)).text
            seen += [int(x) for x in re.findall(r'class="mono jid" href="/jobs/(\d+)"', html)]
            nxt = re.search(r'href="(/jobs\?[^"]*)" rel="next"', html)
            if nxt is None:
                break
            assert "Search older" in html
            url = nxt.group(1).replace("&amp;", "&")
        assert seen == rare


async def test_an_attempt_shows_its_queue_wait_apart_from_its_backoff(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        store = await api.store()
        [job] = await store.enqueue_many([JobSpec(task="t.x")], now=1000.0)
        [first] = await store.claim("w1", [], 1, now=1002.5)
        assert first.lease is not None
        await store.finish_many([Report(job.id, first.lease, Outcome.FAILED,
                                        error_message="flaky", retry_at=1060.0)], now=1003.0)
        await store.claim("w1", [], 1, now=1064.0)
        html = (await api.client.get(f"/jobs/{job.id}")).text
        waits = re.findall(r'class="queue-wait"[^>]*>in queue <b>([^<]+)</b>', html)
        assert len(waits) == 2, html
        assert "after backoff of" in html
        api_job = (await api.client.get(f"/api/jobs/{job.id}")).json()
        assert [a["queue_wait_s"] for a in api_job["attempts"]] == [2.5, 4.0]
        assert [a["ready_at"] for a in api_job["attempts"]] == [1000.0, 1060.0]
