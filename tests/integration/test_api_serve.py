"""The API on a real uvicorn socket: `jobglass serve` beside a real worker process, and
`jobglass up` serving it in the worker's own event loop; both stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ACCEPTANCE = Path(__file__).parent.parent / "acceptance"
WaitFor = Any


class Procs:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.url = f"sqlite:///{tmp}/jobs.db"
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        env = {**os.environ, "JOBGLASS_DATABASE_URL": self.url,
               "JOBGLASS_TEST_TRACE": str(self.tmp / "trace.log"),
               "PYTHONPATH": os.pathsep.join([str(ACCEPTANCE), os.environ.get("PYTHONPATH", "")])}
        log = self.tmp / f"proc-{len(self.procs)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "jobglass", *args], env=env,
                                    cwd=self.tmp, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append((proc, log))
        return proc, log

    def stop_all(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    p = Procs(tmp_path)
    try:
        yield p
    finally:
        p.stop_all()


async def base_url(log: Path, wait_for: WaitFor) -> str:
    found: list[str] = []

    def announced() -> bool:
        match = re.search(r"http://127\.0\.0\.1:(\d+)", log.read_text(errors="replace"))
        if match:
            found.append(match.group(0))
        return bool(match)

    await wait_for(announced, timeout=30, message=f"no API address in {log}")
    return found[0]


async def exit_code(proc: subprocess.Popen[bytes], wait_for: WaitFor) -> int:
    await wait_for(lambda: proc.poll() is not None, timeout=30, message="it should stop")
    return proc.returncode


async def run_a_job(client: httpx.AsyncClient, wait_for: WaitFor) -> dict[str, Any]:
    made = await client.post("/api/jobs", json={"task": "acc.record", "kwargs": {"tag": "x"}},
                             headers={"X-Request-ID": "real-socket-1"})
    assert made.status_code == 201, made.text
    assert made.headers["x-request-id"] == "real-socket-1"
    location = made.headers["location"]

    async def done() -> bool:
        return bool((await client.get(location)).json()["state"] == "succeeded")

    await wait_for(done, timeout=30, message="the job should run")
    job: dict[str, Any] = (await client.get(location)).json()
    return job


async def test_serve_beside_a_worker_process(procs: Procs, wait_for: WaitFor) -> None:
    server, log = procs.start("serve", "--port", "0", "--log-format", "json")
    procs.start("worker", "--app", "accapp:app", "--heartbeat", "0.2", "--lease", "5")
    url = await base_url(log, wait_for)
    async with httpx.AsyncClient(base_url=url) as client:
        job = await run_a_job(client, wait_for)
        assert job["result"] == "x"
        assert job["request_id"] == "real-socket-1"
        assert job["attempts"][0]["outcome"] == "succeeded"
        workers = (await client.get("/api/workers")).json()["workers"]
        assert [w["alive"] for w in workers] == [True]
        assert (await client.get("/readyz")).json()["status"] == "ready"
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert "jobglass_store_up" in metrics.text
    server.send_signal(signal.SIGTERM)
    assert await exit_code(server, wait_for) == 0
    assert "real-socket-1" in log.read_text()  # the request's log lines carry its id


async def test_up_serves_the_api_in_the_worker_loop(procs: Procs, wait_for: WaitFor) -> None:
    up, log = procs.start("up", "--app", "accapp:app", "--port", "0", "--log-format", "json")
    url = await base_url(log, wait_for)
    async with httpx.AsyncClient(base_url=url) as client:
        job = await run_a_job(client, wait_for)
        assert job["worker_id"] is not None
        health = await client.get("/api/health")
        assert health.status_code == 200
    up.send_signal(signal.SIGTERM)
    assert await exit_code(up, wait_for) == 0
    text = log.read_text()
    assert "Application shutdown complete" in text
    assert "Traceback" not in text
    await asyncio.sleep(0)
