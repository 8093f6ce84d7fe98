"""JSON in and out of the database, strict on the way in."""

from __future__ import annotations

import json
from typing import Any

_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False)

_EMPTY = {type(None): "null", list: "[]", dict: "{}"}


def dumps(value: Any) -> str:
    if not value:  # most tasks return nothing, most jobs lack args or kwargs
        text = _EMPTY.get(type(value))
        if text is not None:
            return text
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
