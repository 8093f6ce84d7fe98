"""jobglass on SQLite at its default synchronous=NORMAL (WAL): a second row, for reference."""

from __future__ import annotations

from bench.peers.jobglass_sqlite import Adapter as _Full


class Adapter(_Full):
    name = "jobglass_sqlite_normal"
    synchronous = "normal"
