"""Numbered migrations read from a backend's `migrations/` folder.

A fresh database gets `schema.sql` in one piece; an existing one gets each
migration newer than its recorded version, in order. A test checks both paths
end in the same schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(package: str) -> list[Migration]:
    folder = resources.files(package).joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    return found


def load_schema(package: str) -> str:
    return resources.files(package).joinpath("schema.sql").read_text("utf-8")


def latest_version(package: str) -> int:
    migrations = load_migrations(package)
    return migrations[-1].version if migrations else 0
