"""The WAL watch says it watches only while the file it watches is there: a watch
left on a deleted WAL file would see no commit while the poll waited a second."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from jobglass.store.sqlite import wal_watch
from jobglass.store.sqlite.wal_watch import WATCHED_POLL, WalWatch


def test_the_poll_falls_back_when_the_wal_file_goes(tmp_path: Path) -> None:
    path = str(tmp_path / "jobs.db")
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE t (x)")
    db.commit()
    watch = WalWatch(path)
    try:
        watch.forget()
        if wal_watch.INotify is not None:
            assert watch.poll_every(0.02) == WATCHED_POLL
        os.remove(path + "-wal")
        watch.forget()
        assert watch.poll_every(0.02) == 0.02
    finally:
        watch.close()
        db.close()
