"""The jobs API over a real SQLite store: submit, list, show, cancel, retry, and every
kind of bad input answered as problem+json with nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

from apiclient import Api, serve_app

from jobglass.model import Outcome
from jobglass.store import Report
from jobglass.web import WebSettings

PROBLEM = "application/problem+json"


async def finish_one(api: Api, job_id: int, outcome: Outcome, **report: object) -> None:
    store = await api.store()
    [claimed] = await store.claim("w-test", [], 1)
    assert claimed.id == job_id
    assert await store.finish_many([Report(claimed.id, claimed.lease or "", outcome,
                                           **report)]) == [True]  # type: ignore[arg-type]


def assert_problem(response: object, status: int) -> dict[str, object]:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["type"]
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_submit_show_list_cancel_retry(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        made = await api.client.post("/api/jobs", json={
            "task": "mail.send", "kwargs": {"to": "ada@example.com"}, "queue": "emails",
            "priority": 5, "retries": 2, "timeout": 30})
        assert made.status_code == 201
        job = made.json()
        assert made.headers["location"] == f"/api/jobs/{job['id']}"
        assert (job["state"], job["queue"], job["priority"], job["max_retries"],
                job["timeout"]) == ("queued", "emails", 5, 2, 30)

        shown = (await api.client.get(made.headers["location"])).json()
        assert shown["kwargs"] == {"to": "ada@example.com"}
        assert shown["attempts"] == []

        cancelled = await api.client.post(f"/api/jobs/{job['id']}/cancel",
                                          json={"reason": "not today"})
        assert cancelled.json()["state"] == "cancelled"
        assert cancelled.json()["reason"] == "not today"
        retried = await api.client.post(f"/api/jobs/{job['id']}/retry")
        assert retried.status_code == 200
        assert retried.json()["state"] == "queued"


async def test_a_finished_job_shows_its_attempts_result_and_error(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        ok = (await api.client.post("/api/jobs", json={"task": "t.ok"})).json()
        await finish_one(api, ok["id"], Outcome.SUCCEEDED, result={"n": 3})
        bad = (await api.client.post("/api/jobs", json={"task": "t.bad", "retries": 0})).json()
        await finish_one(api, bad["id"], Outcome.FAILED, error_type="ValueError",
                         error_message="nope", traceback="Traceback ...")

        done = (await api.client.get(f"/api/jobs/{ok['id']}")).json()
        assert done["state"] == "succeeded"
        assert done["result"] == {"n": 3}
        [attempt] = done["attempts"]
        assert attempt["outcome"] == "succeeded"
        assert attempt["worker_id"] == "w-test"

        failed = (await api.client.get(f"/api/jobs/{bad['id']}")).json()
        assert failed["state"] == "failed"
        assert failed["error"] == "nope"
        assert failed["attempts"][0]["error_type"] == "ValueError"
        assert failed["attempts"][0]["traceback"] == "Traceback ..."

        # an illegal transition is 409: a succeeded job cannot be cancelled or retried
        assert_problem(await api.client.post(f"/api/jobs/{ok['id']}/cancel"), 409)
        assert_problem(await api.client.post(f"/api/jobs/{ok['id']}/retry"), 409)


async def test_list_filters_and_keyset_pages(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        ids = []
        for n in range(5):
            r = await api.client.post("/api/jobs", json={"task": f"t.{n % 2}",
                                                         "queue": "a" if n < 3 else "b"})
            ids.append(r.json()["id"])
        await api.client.post(f"/api/jobs/{ids[0]}/cancel")

        page = (await api.client.get("/api/jobs", params={"limit": 2})).json()
        assert [j["id"] for j in page["jobs"]] == [ids[4], ids[3]]
        rest = (await api.client.get("/api/jobs", params={"limit": 2,
                                                          "cursor": page["next_cursor"]})).json()
        assert [j["id"] for j in rest["jobs"]] == [ids[2], ids[1]]
        last = (await api.client.get("/api/jobs", params={"limit": 2,
                                                          "cursor": rest["next_cursor"]})).json()
        assert [j["id"] for j in last["jobs"]] == [ids[0]]
        assert last["next_cursor"] is None

        def listed(**params: object) -> object:
            return api.client.get("/api/jobs", params=params)  # type: ignore[arg-type]

        assert [j["id"] for j in (await listed(queue="b")).json()["jobs"]] == [ids[4], ids[3]]
        assert [j["id"] for j in (await listed(task="t.1")).json()["jobs"]] == [ids[3], ids[1]]
        assert [j["id"] for j in (await listed(state="cancelled")).json()["jobs"]] == [ids[0]]
        both = await api.client.get("/api/jobs?state=cancelled&state=queued&queue=a")
        assert [j["id"] for j in both.json()["jobs"]] == [ids[2], ids[1], ids[0]]
        assert (await listed(created_after=4e10)).json()["jobs"] == []
        assert len((await listed(created_before=4e10)).json()["jobs"]) == 5
        for bad in ({"state": "sleeping"}, {"limit": 0}, {"limit": "x"}, {"cursor": -1},
                    {"created_after": "soon"}):
            assert_problem(await listed(**bad), 422)


async def test_batch_is_all_or_nothing(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        made = await api.client.post("/api/jobs/batch", json={"jobs": [
            {"task": "a"}, {"task": "b", "queue": "q2"}]})
        assert made.status_code == 201
        first, second = made.json()["jobs"]
        chained = await api.client.post("/api/jobs/batch", json={"jobs": [
            {"task": "c", "depends_on": [first["id"]]}, {"task": "d", "priority": "high"}]})
        body = assert_problem(chained, 422)
        assert body["errors"] == [{"in": "body", "field": "jobs/1/priority",
                                   "message": "must be an integer"}]
        missing_parent = await api.client.post("/api/jobs/batch", json={"jobs": [
            {"task": "c"}, {"task": "d", "depends_on": [999]}]})
        assert_problem(missing_parent, 422)
        listed = (await api.client.get("/api/jobs")).json()["jobs"]
        assert [j["id"] for j in listed] == [second["id"], first["id"]]  # nothing else stored
        assert_problem(await api.client.post("/api/jobs/batch", json={"jobs": []}), 422)


async def test_a_unique_key_returns_the_job_that_holds_it(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        first = await api.client.post("/api/jobs", json={"task": "d", "unique_key": "digest"})
        again = await api.client.post("/api/jobs", json={"task": "d", "unique_key": "digest"})
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        assert again.headers["location"] == first.headers["location"]


async def test_bad_input_is_a_problem_and_stores_nothing(tmp_path: Path) -> None:
    async with serve_app(tmp_path, WebSettings(max_body=4096)) as api:
        post = api.client.post
        assert_problem(await post("/api/jobs", content=b'{"task": '), 400)
        assert_problem(await post("/api/jobs", content=b'{"task": "t", "delay": NaN}'), 400)
        assert_problem(await post("/api/jobs", content=b"[" * 100_000), 413)
        assert_problem(await post("/api/jobs", content=b"[" * 2000 + b"]" * 2000), 400)
        assert_problem(await post("/api/jobs", content=b'"\\ud800"'), 400)
        assert_problem(await post("/api/jobs", content=b"task=t",
                                  headers={"content-type": "application/x-www-form-urlencoded"}),
                       415)
        assert_problem(await post("/api/jobs"), 400)
        assert_problem(await post("/api/jobs", json=["t"]), 422)
        for body, field in (({}, "task"), ({"task": 7}, "task"), ({"task": " "}, "task"),
                            ({"task": "t", "args": {}}, "args"),
                            ({"task": "t", "kwargs": []}, "kwargs"),
                            ({"task": "t", "priority": True}, "priority"),
                            ({"task": "t", "priority": 2**40}, "priority"),
                            ({"task": "t", "delay": -1}, "delay"),
                            ({"task": "t", "delay": 1, "run_at": 2}, "run_at"),
                            ({"task": "t", "timeout": 0}, "timeout"),
                            ({"task": "t", "depends_on": [0]}, "depends_on"),
                            ({"task": "t", "depends_on": [12345]}, "depends_on"),
                            ({"task": "t", "colour": "red"}, "colour"),
                            ({"task": "shell"}, "task"),
                            ({"task": "t", "command": "ls"}, "command"),
                            ({"task": "x" * 201}, "task")):
            problem = assert_problem(await post("/api/jobs", json=body), 422)
            fields = [e["field"] for e in problem["errors"]]  # type: ignore[attr-defined]
            assert field in fields, (body, problem)
        assert (await api.client.get("/api/jobs")).json()["jobs"] == []


async def test_unknown_jobs_routes_and_methods(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        for path in ("/api/jobs/999", "/api/jobs/0", "/api/jobs/abc", "/api/jobs/" + "9" * 30,
                     "/api/nothing"):
            assert_problem(await api.client.get(path), 404)
        assert_problem(await api.client.post("/api/jobs/999/cancel"), 404)
        wrong = assert_problem(await api.client.delete("/api/jobs"), 405)
        assert "GET" in str(wrong["detail"])


async def test_the_body_limit_counts_streamed_bytes_too(tmp_path: Path) -> None:
    async with serve_app(tmp_path, WebSettings(max_body=1024)) as api:
        async def chunks():  # no Content-Length: the body arrives in pieces
            for _ in range(10):
                yield b" " * 200

        r = await api.client.post("/api/jobs", content=chunks(),
                                  headers={"content-type": "application/json"})
        assert_problem(r, 413)
        ok = await api.client.post("/api/jobs", content=json.dumps({"task": "t"}).encode())
        assert ok.status_code == 201


async def test_default_limit_is_one_mebibyte(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        big = {"task": "t", "args": ["x" * (1 << 20)]}
        assert_problem(await api.client.post("/api/jobs", json=big), 413)
        fits = {"task": "t", "args": ["x" * ((1 << 20) - 100)]}
        assert (await api.client.post("/api/jobs", json=fits)).status_code == 201


async def test_secret_looking_keys_are_redacted_in_responses(tmp_path: Path) -> None:
    settings = WebSettings(redactor=__import__("jobglass.observe.redact", fromlist=["x"])
                           .Redactor(["iban"]))
    async with serve_app(tmp_path, settings) as api:
        made = await api.client.post("/api/jobs", json={"task": "pay", "kwargs": {
            "user": "ada", "password": "hunter2", "db": {"API_TOKEN": "t0k", "host": "h"},
            "headers": [{"Authorization": "Bearer x"}], "client_secret": "s", "iban": "DE00"}})
        for body in (made.json(), (await api.client.get(made.headers["location"])).json(),
                     (await api.client.get("/api/jobs")).json()["jobs"][0]):
            assert body["kwargs"] == {
                "user": "ada", "password": "[redacted]",
                "db": {"API_TOKEN": "[redacted]", "host": "h"},
                "headers": [{"Authorization": "[redacted]"}], "client_secret": "[redacted]",
                "iban": "[redacted]"}
        stored = await (await api.store()).get(made.json()["id"])
        assert stored.kwargs["password"] == "hunter2"  # the worker still gets the real value
