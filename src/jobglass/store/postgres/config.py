"""A postgresql:// URL read into settings; jobglass's own query parameters come off
before the rest reaches libpq, which would reject them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jobglass.model import ConfigError

DEFAULT_SCHEMA = "jobglass"
# Short enough that "jobglass_<schema>" still fits PostgreSQL's 63-byte identifiers
# (the NOTIFY channel), and plain enough to be spliced into SQL unquoted.
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,53}$")
_OWN = ("schema", "migrate", "pool_min", "pool_max", "pool_timeout")


@dataclass(frozen=True, slots=True)
class PgConfig:
    conninfo: str  # what psycopg gets: the URL without jobglass's parameters
    schema: str
    migrate: bool = True
    pool_min: int = 1
    pool_max: int = 10
    pool_timeout: float = 10.0  # seconds a call waits for a connection

    @property
    def channel(self) -> str:
        """The NOTIFY channel of this schema; the payload is the queue name."""
        return f"jobglass_{self.schema}"

    @property
    def wake_key(self) -> str:
        """Key of in-process wake-ups: stores on the same database and schema share it."""
        return f"{self.conninfo}#{self.schema}"

    def lock_key(self, purpose: str) -> int:
        """A stable signed 64-bit advisory-lock key, one per schema and purpose."""
        digest = hashlib.blake2b(f"jobglass:{purpose}:{self.schema}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big", signed=True)


def parse_url(url: str) -> PgConfig:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"not a PostgreSQL URL: {url!r}")
    own: dict[str, str] = {}
    rest: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in _OWN:
            own[key] = value
        else:
            rest.append((key, value))
    schema = own.get("schema", DEFAULT_SCHEMA)
    if not _SCHEMA.match(schema):
        raise ConfigError(
            f"schema must be lower-case letters, digits and _ (at most 54), not {schema!r}")
    try:
        config = PgConfig(
            conninfo=urlunsplit(parts._replace(query=urlencode(rest))),
            schema=schema,
            migrate=own.get("migrate", "true").lower() != "false",
            pool_min=int(own.get("pool_min", "1")),
            pool_max=int(own.get("pool_max", "10")),
            pool_timeout=float(own.get("pool_timeout", "10")),
        )
    except ValueError as exc:
        raise ConfigError(f"bad pool setting in {url!r}: {exc}") from exc
    if not 0 <= config.pool_min <= config.pool_max or config.pool_max < 1:
        raise ConfigError("need 0 <= pool_min <= pool_max and pool_max >= 1")
    return config
