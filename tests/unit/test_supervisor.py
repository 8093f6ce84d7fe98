"""The supervisor passes a stop on to every child, even one it was spawning when the
signal came."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from jobglass.worker.supervisor import Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(30)"]


class StoppedWhileSpawning(Supervisor):
    """One child that dies at once; the stop signal lands while its replacement is
    being spawned, before `run` holds it."""

    def __init__(self) -> None:
        super().__init__([], 1, restart_delay=0)
        self.spawned: list[subprocess.Popen[bytes]] = []

    def _spawn(self) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(SLEEPER)
        self.spawned.append(child)
        if len(self.spawned) == 1:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        else:
            os.kill(os.getpid(), signal.SIGTERM)  # handled here, inside _spawn
        return child


def test_a_child_spawned_as_the_stop_arrives_is_stopped_too() -> None:
    supervisor = StoppedWhileSpawning()
    try:
        assert supervisor.run() == 0
    finally:
        for child in supervisor.spawned:
            if child.poll() is None:
                child.kill()
                child.wait()
    replacement = supervisor.spawned[1]
    # Told to stop, not left to sleep out its 30 s and exit 0 on its own.
    assert replacement.returncode == -signal.SIGTERM


def test_run_gives_back_the_signal_handlers_it_found() -> None:
    before = signal.getsignal(signal.SIGTERM)
    supervisor = StoppedWhileSpawning()
    supervisor.run()
    assert signal.getsignal(signal.SIGTERM) is before
