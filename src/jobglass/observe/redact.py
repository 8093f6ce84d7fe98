"""Hide values whose keys look secret, wherever arguments are shown.

Logs, API responses and the dashboard pass job arguments and results through
`Redactor`: a key that contains one of the patterns (case-insensitive) keeps its
name but its value becomes `REDACTED`. Nested objects and lists are walked;
positional arguments have no key and are shown as they are.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
DEFAULT_PATTERNS = ("password", "passwd", "token", "secret", "authorization", "api_key",
                    "apikey", "credential", "private_key")
ENV_VAR = "JOBGLASS_REDACT_KEYS"  # comma-separated extra patterns


class Redactor:
    def __init__(self, extra: Iterable[str] = (), *, defaults: bool = True) -> None:
        patterns = [*(DEFAULT_PATTERNS if defaults else ()), *extra]
        self.patterns = tuple(sorted({p.strip().lower() for p in patterns if p.strip()}))

    @classmethod
    def from_env(cls, extra: Iterable[str] = ()) -> Redactor:
        env = os.environ.get(ENV_VAR, "")
        return cls([*extra, *env.split(",")])

    def secret(self, key: str) -> bool:
        lowered = key.lower()
        return any(p in lowered for p in self.patterns)

    def __call__(self, value: Any) -> Any:
        """A copy of `value` with secret-looking keys' values replaced."""
        if isinstance(value, dict):
            return {k: REDACTED if isinstance(k, str) and self.secret(k) else self(v)
                    for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        return value
