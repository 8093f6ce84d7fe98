"""W3C traceparent strings, read without the OpenTelemetry SDK (cheap on hot paths)."""

from __future__ import annotations


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex trace id of `00-<trace>-<span>-<flags>`, or None."""
    if not traceparent or len(traceparent) < 55:
        return None
    parts = traceparent.split("-")
    if len(parts) < 4 or len(parts[1]) != 32 or parts[1] == "0" * 32:
        return None
    return parts[1]
