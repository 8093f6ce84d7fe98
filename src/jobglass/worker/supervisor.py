"""`--processes P`: run P worker processes and replace any that dies.

The children are the same `jobglass worker` command with `--processes 1`. The
first SIGTERM/SIGINT is passed on (graceful stop); a second is passed on too, so
children skip their drain; the supervisor exits when all children have.

The handler only counts signals; the loop passes them on. A child being spawned
when the signal lands is not in `children` yet, and a handler that sent to the
list would miss it: the supervisor would then wait forever for a child that was
never told to stop.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

log = logging.getLogger("jobglass.supervisor")


class Supervisor:
    def __init__(self, child_args: Sequence[str], processes: int, *,
                 restart_delay: float = 0.5, env: dict[str, str] | None = None) -> None:
        self.child_args = list(child_args)
        self.env = env
        self.processes = processes
        self.restart_delay = restart_delay
        self.children: list[subprocess.Popen[bytes]] = []
        self.stopping = 0
        self.replaced = 0
        self._told: dict[int, int] = {}  # pid -> how many stop signals it was passed

    def _spawn(self) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "jobglass", *self.child_args]
        child = subprocess.Popen(cmd, env=self.env)
        log.info("started worker process %s", child.pid)
        return child

    def _signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping += 1

    def _pass_on_stop(self, child: subprocess.Popen[bytes]) -> None:
        if self._told.get(child.pid, 0) < self.stopping:
            child.send_signal(signal.SIGTERM if self.stopping == 1 else signal.SIGINT)
            self._told[child.pid] = self.stopping

    def run(self) -> int:
        """Run the children until a stop signal and all of them have exited; 0."""
        stops = (signal.SIGTERM, signal.SIGINT)
        previous = {sig: signal.signal(sig, self._signal) for sig in stops}
        try:
            return self._supervise()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _supervise(self) -> int:
        self.children = [self._spawn() for _ in range(self.processes)]
        while True:
            alive = False
            for index, child in enumerate(self.children):
                code = child.poll()
                if code is None:
                    alive = True
                    if self.stopping:
                        self._pass_on_stop(child)
                    continue
                if self.stopping:
                    continue
                log.warning("worker process %s exited with %s; replacing it", child.pid, code)
                time.sleep(self.restart_delay)  # a crash loop must not spin the CPU
                if self.stopping:
                    continue
                self.children[index] = self._spawn()
                self.replaced += 1
                alive = True
            if self.stopping and not alive:
                return 0
            time.sleep(0.1)
