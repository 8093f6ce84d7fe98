"""Observability: events, observers, and (later) logs, metrics, traces."""

from jobglass.observe.background import Background
from jobglass.observe.observer import FanOut, Observer, Recorder

__all__ = ["Background", "FanOut", "Observer", "Recorder"]
