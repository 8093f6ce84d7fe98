"""JSON in and out of the database, strict on the way in."""

from __future__ import annotations

import json
from typing import Any

_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def dumps(value: Any) -> str:
    return _encoder.encode(value)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
