"""Jinja filters: times (relative, with the absolute time on hover), durations, sizes,
JSON. Pure functions of their input and `now`, so they are tested without a server."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from jobglass.observe.traceparent import trace_id_of

NONE = "\u2013"  # an en dash: nothing to show


def abstime(ts: float | None) -> str:
    """`2026-11-03 12:00:01 UTC`."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def clock(ts: float | None) -> str:
    """`12:00:01.250` (UTC): a log line's time."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S.%f")[:-3]


def duration(seconds: float | None) -> str:
    """`850ms`, `4.2s`, `3m 20s`, `2h 05m`, `3d 4h`."""
    if seconds is None:
        return ""
    s = max(0.0, float(seconds))
    if s < 1:
        return f"{s * 1000:.0f}ms"
    if s < 60:
        return f"{s:.1f}s" if s < 10 else f"{s:.0f}s"
    if s < 3600:
        return f"{int(s // 60)}m {int(s % 60):02d}s"
    if s < 86400:
        return f"{int(s // 3600)}h {int(s % 3600 // 60):02d}m"
    return f"{int(s // 86400)}d {int(s % 86400 // 3600)}h"


def ago(ts: float | None, now: float | None = None) -> str:
    """`12s ago`, `in 3m 00s`, `just now`."""
    if ts is None:
        return ""
    delta = (time.time() if now is None else now) - ts
    if abs(delta) < 1:
        return "just now"
    return f"{duration(delta)} ago" if delta > 0 else f"in {duration(-delta)}"


def number(value: float | int | None) -> str:
    """`1,234,567`; floats with one decimal under 100."""
    if value is None:
        return NONE
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def percent(rate: float | None) -> str:
    return NONE if rate is None else f"{rate * 100:.1f}%"


def pretty(value: Any) -> str:
    """JSON, indented, keys in their order."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def compact(value: Any, limit: int = 120) -> str:
    """JSON on one line, cut at `limit` characters."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def trace_link(trace_id: str | None, template: str | None) -> str | None:
    """The trace's URL from a template with `{trace_id}`; None without either."""
    if not trace_id or not template:
        return None
    return template.replace("{trace_id}", trace_id)


FILTERS = {"abstime": abstime, "clock": clock, "duration": duration, "ago": ago, "number": number,
           "percent": percent, "pretty": pretty, "compact": compact,
           "trace_id": trace_id_of}
