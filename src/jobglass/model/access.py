"""API tokens and their scopes.

A token is shown once, when it is made, and only its SHA-256 is stored: a copy
of the database does not let anyone call the API.

| scope | may |
|---|---|
| read  | look: jobs, queues, workers, health |
| write | also submit, cancel and retry jobs |
| admin | also submit shell commands and pause or resume queues |
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

TOKEN_PREFIX = "jg_"


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Scope) -> bool:
        """An admin token may do what a write token may, which may do what read may."""
        return self.rank >= needed.rank


_RANK = {Scope.READ: 0, Scope.WRITE: 1, Scope.ADMIN: 2}


@dataclass(slots=True)
class ApiToken:
    """A stored token: everything but the secret itself."""

    id: int
    name: str
    scope: Scope
    created_at: float
    last_used_at: float | None = None
    revoked_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_token() -> str:
    """A fresh secret: `jg_` and 43 URL-safe characters (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(secret: str) -> str:
    """What the store keeps and looks tokens up by."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
