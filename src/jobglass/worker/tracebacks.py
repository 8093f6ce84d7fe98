"""An attempt's traceback, as `traceback.format_exception` writes it, with each
frame's text kept per code location.

Since Python 3.11 formatting a frame compiles its source line to place the `^^^^`
markers: for a job failing in a three-frame stack that was ~60% of what a failure
cost the worker (a no-op task that raises ran at ~2,800 jobs/s against ~15,000
that succeed). A retry storm fails on the same lines again and again, so the text
of a frame is formatted once per (file, line, columns, function, source line) and
reused; the stdlib still walks the stack, reads the lines and formats the rest.
"""

from __future__ import annotations

import traceback
from typing import Any

MAX_FRAMES = 4096  # frame texts kept; then the cache starts over

_texts: dict[tuple[Any, ...], str] = {}


class _KnownFrames(traceback.StackSummary):
    """A stack whose frames are formatted once per code location."""

    def format_frame_summary(self, frame_summary: traceback.FrameSummary) -> str:
        if frame_summary.locals:  # captured locals differ per failure
            return super().format_frame_summary(frame_summary)
        key = (frame_summary.filename, frame_summary.lineno, frame_summary.end_lineno,
               frame_summary.colno, frame_summary.end_colno, frame_summary.name,
               frame_summary.line)
        text = _texts.get(key)
        if text is None:
            text = super().format_frame_summary(frame_summary)
            if len(_texts) >= MAX_FRAMES:
                _texts.clear()
            _texts[key] = text
        return text


def _known_frames(exc: traceback.TracebackException, seen: set[int]) -> None:
    """Give this exception and every one it chains to or groups the cached stack."""
    if id(exc) in seen:
        return
    seen.add(id(exc))
    exc.stack = _KnownFrames(exc.stack)
    for other in (exc.__cause__, exc.__context__, *(getattr(exc, "exceptions", None) or ())):
        if other is not None:
            _known_frames(other, seen)


def format_exception(exc: BaseException) -> str:
    """The text `"".join(traceback.format_exception(exc))` gives."""
    summary = traceback.TracebackException(type(exc), exc, exc.__traceback__, compact=True)
    _known_frames(summary, set())
    return "".join(summary.format())
