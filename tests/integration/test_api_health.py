"""Each health check driven to degraded or failing by a real scenario: a SIGSTOPped
worker process holding a job, a queue with ready jobs and no workers, an unreachable
store, a queue whose jobs fail; and `jobglass health` agreeing with the API."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apiclient import Api, serve_app

from jobglass.model import Outcome
from jobglass.observe.health import Thresholds
from jobglass.store import Report
from jobglass.web import WebSettings

ACCEPTANCE = Path(__file__).parent.parent / "acceptance"  # accapp: the acceptance tasks
WaitFor = Any


def checks(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in body["checks"]}


async def verdict(api: Api) -> tuple[int, dict[str, Any]]:
    r = await api.client.get("/api/health")
    assert r.headers["content-type"] == "application/json"
    return r.status_code, r.json()


def jobglass_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOBGLASS_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "jobglass", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


async def test_all_ok_on_a_quiet_store(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        status, body = await verdict(api)
        assert status == 200
        assert body["status"] == "ok"
        assert [c["name"] for c in body["checks"]] == [
            "store", "stuck_jobs", "dead_workers", "no_progress", "oldest_ready", "failure_rate"]
        assert all(c["status"] == "ok" for c in body["checks"])


async def test_an_unreachable_store_is_failing_and_says_since_when(
        tmp_path: Path, wait_for: WaitFor) -> None:
    url = f"sqlite:///{tmp_path}/no/such/dir/jobs.db"
    async with serve_app(tmp_path, url=url) as api:
        status, body = await verdict(api)
        assert status == 503
        assert body["status"] == "failing"
        store = checks(body)["store"]
        assert store["status"] == "failing"
        assert "unreachable" in store["message"]
        assert {c["status"] for c in body["checks"][1:]} == {"unknown"}
        first_seen = body["sampled_at"] - store["observed"]

        async def down_for_a_while() -> bool:
            _, later = await verdict(api)
            return bool(checks(later)["store"]["observed"] > 0)

        await wait_for(down_for_a_while, timeout=5, message="the outage should age")
        _, later = await verdict(api)
        since = later["sampled_at"] - checks(later)["store"]["observed"]
        assert since == pytest.approx(first_seen, abs=0.01)  # the same "since"

        assert (await api.client.get("/healthz")).status_code == 200  # the process is alive
        ready = await api.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers["content-type"] == "application/problem+json"
        jobs = await api.client.get("/api/jobs")
        assert jobs.status_code == 503
        assert jobs.json()["status"] == 503

    cli = jobglass_cli(url, "health", "--json")
    assert cli.returncode == 1, cli.stderr
    assert json.loads(cli.stdout)["status"] == "failing"


async def test_ready_jobs_and_no_workers_mean_no_progress(
        tmp_path: Path, wait_for: WaitFor) -> None:
    t = Thresholds(no_progress_after=0.3, oldest_ready=0.2,
                   queue_oldest_ready={"slow": 3600})
    async with serve_app(tmp_path, WebSettings(thresholds=t)) as api:
        for queue in ("emails", "slow"):
            await api.client.post("/api/jobs", json={"task": "t", "queue": queue})
        await api.client.post("/api/jobs", json={"task": "later", "queue": "emails",
                                                 "delay": 3600})

        async def both_stalled() -> bool:
            status, body = await verdict(api)
            return status == 503 and len(checks(body)["no_progress"]["queues"]) == 2

        await wait_for(both_stalled, timeout=10, message="no_progress should fail")
        _, body = await verdict(api)
        found = checks(body)
        assert body["status"] == "failing"
        assert found["no_progress"]["status"] == "failing"
        assert found["no_progress"]["queues"] == ["emails", "slow"]
        assert "no job has ever finished" in found["no_progress"]["message"]
        assert found["no_progress"]["observed"] > 0.3
        assert found["no_progress"]["threshold"] == 0.3
        assert found["oldest_ready"]["status"] == "degraded"
        assert found["oldest_ready"]["queues"] == ["emails"]  # slow is within its own limit
        assert found["stuck_jobs"]["status"] == "ok"

        # the CLI reads the same store and agrees
        cli = jobglass_cli(api.app.database_url, "health", "--json",
                           "-t", "no_progress_after=0.3", "-t", "oldest_ready=0.2")
        assert cli.returncode == 1, cli.stderr
        assert checks(json.loads(cli.stdout))["no_progress"]["status"] == "failing"
        table = jobglass_cli(api.app.database_url, "health", "-t", "no_progress_after=0.3")
        assert table.returncode == 1
        assert "no_progress" in table.stdout

        # pausing both queues says waiting is intended: healthy again
        for queue in ("emails", "slow"):
            await api.client.post(f"/api/queues/{queue}/pause")
        status, body = await verdict(api)
        assert status == 200
        assert checks(body)["no_progress"]["status"] == "ok"


async def test_a_failing_queue_degrades_the_verdict(tmp_path: Path) -> None:
    t = Thresholds(failure_rate=0.5, failure_min_jobs=3)
    async with serve_app(tmp_path, WebSettings(thresholds=t)) as api:
        store = await api.store()
        for n in range(4):
            await api.client.post("/api/jobs", json={"task": "t", "queue": "imports",
                                                     "retries": 0})
            [job] = await store.claim("w", [], 1)
            outcome = Outcome.SUCCEEDED if n == 0 else Outcome.FAILED
            await store.finish_many([Report(job.id, job.lease or "", outcome)])
        status, body = await verdict(api)
        rate = checks(body)["failure_rate"]
        assert status == 200
        assert body["status"] == "degraded"
        assert rate["status"] == "degraded"
        assert rate["queues"] == ["imports"]
        assert rate["observed"] == 0.75
        assert rate["threshold"] == 0.5
        queues = (await api.client.get("/api/queues")).json()["queues"]
        assert queues[0]["throughput"]["failed"] == 3
        assert queues[0]["failure_rate"] == 0.75


def start_worker(tmp_path: Path, url: str) -> subprocess.Popen[bytes]:
    """A real `jobglass worker` process running the acceptance tests' tasks."""
    env = {**os.environ, "JOBGLASS_DATABASE_URL": url,
           "JOBGLASS_TEST_TRACE": str(tmp_path / "trace.log"),
           "PYTHONPATH": os.pathsep.join([str(ACCEPTANCE), os.environ.get("PYTHONPATH", "")])}
    with open(tmp_path / "worker.log", "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "jobglass", "worker", "--app", "accapp:app",
             "--heartbeat", "0.1", "--lease", "60"], env=env, cwd=tmp_path, stdout=out,
            stderr=subprocess.STDOUT)


@contextlib.contextmanager
def stopped_later(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
        proc.wait(10)


async def test_a_sigstopped_worker_holding_a_job(tmp_path: Path, wait_for: WaitFor) -> None:
    url = f"sqlite:///{tmp_path}/jobs.db"
    t = Thresholds(stale_heartbeat=0.5, worker_dead_after=1.0)
    async with serve_app(tmp_path, WebSettings(thresholds=t), url=url) as api:
        made = (await api.client.post("/api/jobs", json={"task": "acc.hang_first"})).json()
        proc = start_worker(tmp_path, url)
        with stopped_later(proc):
            async def running() -> bool:
                job = (await api.client.get(f"/api/jobs/{made['id']}")).json()
                return bool(job["state"] == "running")

            await wait_for(running, timeout=30, message="the worker should claim the job")
            workers = (await api.client.get("/api/workers")).json()["workers"]
            [worker] = [w for w in workers if w["pid"] == proc.pid]
            assert worker["alive"]
            assert worker["current_jobs"] in ([], [made["id"]])
            assert (await verdict(api))[1]["status"] == "ok"

            os.kill(proc.pid, signal.SIGSTOP)

            async def failing() -> bool:
                return (await verdict(api))[0] == 503

            await wait_for(failing, timeout=15, message="a frozen worker should fail health")
            _, body = await verdict(api)
            found = checks(body)
            assert found["stuck_jobs"]["status"] == "degraded"
            assert found["stuck_jobs"]["jobs"] == [made["id"]]
            assert found["dead_workers"]["status"] == "failing"
            assert found["dead_workers"]["workers"] == [worker["id"]]
            assert found["dead_workers"]["jobs"] == [made["id"]]
            assert f"pid {proc.pid}" in found["dead_workers"]["message"]
            listed = (await api.client.get("/api/workers")).json()["workers"]
            assert [w["alive"] for w in listed if w["id"] == worker["id"]] == [False]
