"""jobglass on SQLite (WAL), synchronous=FULL to match Huey's SQLite default."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from bench.peers.jobglass_common import JobglassBase


class Adapter(JobglassBase):
    name = "jobglass_sqlite"
    storage = "sqlite"
    synchronous = "full"

    def setup(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="jobglass-peers-")
        self.path = Path(self.dir) / "bench.db"
        self.url = f"sqlite:///{self.path}?synchronous={self.synchronous}"
        self._probe: sqlite3.Connection | None = None

    def pending(self) -> int:
        if self._probe is None:
            self._probe = sqlite3.connect(self.path, isolation_level=None)
            self._probe.execute("PRAGMA busy_timeout = 30000")
        # Through the partial indexes the store keeps anyway: a count over the whole
        # table would scan it 20 times a second beside the worker.
        row = self._probe.execute(
            "SELECT (SELECT count(*) FROM jobglass_jobs INDEXED BY jobglass_jobs_ready"
            " WHERE state = 'queued') + (SELECT count(*) FROM jobglass_jobs"
            " INDEXED BY jobglass_jobs_running WHERE state = 'running')").fetchone()
        return int(row[0])

    def teardown(self) -> None:
        if self._probe is not None:
            self._probe.close()
        shutil.rmtree(self.dir, ignore_errors=True)
