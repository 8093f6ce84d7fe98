"""One line of an attempt's stored log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class LogLine:
    job_id: int
    attempt: int
    ts: float
    level: str  # debug | info | warning | error
    stream: str  # log (ctx.log / logging), stdout, stderr, progress, stats, system
    message: str
    fields: dict[str, Any] | None = None
    id: int | None = None  # set by the store; the cursor for reading on
