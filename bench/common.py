"""Helpers shared by the benchmarks: temporary databases, worker processes, figures."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class TempDB:
    path: Path

    @property
    def url(self) -> str:
        # sqlite:////abs/path.db: the store strips one slash and keeps the absolute path
        return f"sqlite:///{self.path}"

    def connect(self) -> sqlite3.Connection:
        """A plain read connection for the bench's own queries (WAL: never blocks writers)."""
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 30000")
        return db


@contextlib.contextmanager
def temp_db(name: str = "bench") -> Iterator[TempDB]:
    """A fresh database file in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="jobglass-bench-") as tmp:
        yield TempDB(Path(tmp) / f"{name}.db")


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A small left/right-aligned text table (text left, numbers right)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in header]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    numeric = [all(_is_number(row[i]) for row in rows) if rows else False
               for i in range(len(header))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w)
                 for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    print(f"\n{title}")
    print(line(list(header)))
    print(line(["-" * w for w in widths]))
    for row in cells:
        print(line(row))
    sys.stdout.flush()


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def ms(seconds: float) -> float:
    return seconds * 1000.0


class WorkerProcess:
    """`python -m jobglass worker` in a child process; always stopped by `stop()`."""

    def __init__(self, url: str, *, concurrency: int, app: str = "bench.tasks:app",
                 log_level: str = "WARNING", extra: Sequence[str] = ()) -> None:
        self.argv = [sys.executable, "-m", "jobglass", "worker", "--app", app,
                     "--concurrency", str(concurrency), "--database-url", url,
                     "--log-level", log_level, *extra]
        self.url = url
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()

    def start(self) -> float:
        env = dict(os.environ, JOBGLASS_DATABASE_URL=self.url, PYTHONPATH=str(ROOT))
        self.started = time.time()
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        return self.started

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"the worker exited with code {self.proc.returncode}:\n"
                               f"{self.output()}")

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL if it does not exit in time."""
        proc = self.proc
        if proc is None:
            return None
        try:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        finally:
            self._log.close()
        return proc.returncode

    def __enter__(self) -> WorkerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def job_span(db: TempDB, state: str = "succeeded") -> tuple[int, float, float]:
    """(count, first started_at, last finished_at) of jobs in `state`."""
    with contextlib.closing(db.connect()) as conn:
        row = conn.execute("SELECT count(*), min(started_at), max(finished_at)"
                           " FROM jobglass_jobs WHERE state = ?", (state,)).fetchone()
    count, first, last = row
    return int(count), float(first or 0.0), float(last or 0.0)

