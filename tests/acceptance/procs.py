"""Real `jobglass worker` processes against a throwaway database (a SQLite file, or a
PostgreSQL schema of the test's own), for acceptance tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).parent
WaitFor = Callable[..., Awaitable[None]]


class Workers:
    def __init__(self, tmp: Path, url: str) -> None:
        self.tmp = tmp
        self.url = url
        self.trace = tmp / "trace.log"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.children: set[int] = set()  # supervised grandchildren seen, killed at the end

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["JOBGLASS_DATABASE_URL"] = self.url
        env["JOBGLASS_TEST_TRACE"] = str(self.trace)
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
        return env

    def start(self, *args: str, heartbeat: float = 0.2, lease: float = 2
              ) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "jobglass", "worker", "--app", "accapp:app",
               "--heartbeat", str(heartbeat), "--lease", str(lease), *args]
        with open(self.tmp / f"worker-{len(self.procs)}.log", "wb") as log:
            proc = subprocess.Popen(cmd, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                    cwd=self.tmp)
        self.procs.append(proc)
        return proc

    def trace_lines(self) -> list[str]:
        return self.trace.read_text().splitlines() if self.trace.exists() else []

    def output(self, proc: subprocess.Popen[bytes]) -> str:
        index = self.procs.index(proc)
        return (self.tmp / f"worker-{index}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def wait_exit(proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """Wait for a process to end without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"process {proc.pid} still running after {timeout}s")
        await asyncio.sleep(0.02)
    return proc.returncode


def running_children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(x) for x in out.stdout.split()]

