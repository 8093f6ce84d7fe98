"""`sqlite:///path.db?synchronous=full&poll=0.02&migrate=false`, read once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from jobglass.model import ConfigError

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


@dataclass(frozen=True, slots=True)
class SQLiteUrl:
    path: str  # absolute, or ":memory:"
    synchronous: str = "NORMAL"
    poll: float = 0.02  # seconds between data_version checks for other processes' writes
    migrate: bool = True


def parse_sqlite_url(url: str) -> SQLiteUrl:
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise ConfigError(f"not a SQLite URL: {url!r}")
    # sqlite:///relative.db -> "relative.db"; sqlite:////abs/path.db -> "/abs/path.db"
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    if parts.netloc:
        path = parts.netloc + "/" + path
    if not path:
        raise ConfigError(f"the SQLite URL {url!r} names no file")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    synchronous = options.get("synchronous", "normal").upper()
    if synchronous not in SYNCHRONOUS:
        raise ConfigError(f"synchronous must be off, normal, full or extra, not {synchronous}")
    return SQLiteUrl(path=path if path == ":memory:" else os.path.abspath(path),
                     synchronous=synchronous, poll=float(options.get("poll", "0.02")),
                     migrate=options.get("migrate", "true") != "false")
