"""JSON in and out of the database, strict on the way in."""

from __future__ import annotations

import json
from typing import Any

_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def dumps(value: Any) -> str:
    if value is None:
        return "null"  # most tasks return nothing: skip the encoder
    return _encoder.encode(value)


def loads(text: str | None) -> Any:
    if text is None:
        return None
    # Most jobs have no args or no kwargs: skip the decoder for those (a claim reads both).
    if text == "[]":
        return []
    if text == "{}":
        return {}
    return json.loads(text)
