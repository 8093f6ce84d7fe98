"""Observability: events, observers, and (later) logs, metrics, traces."""

from jobglass.observe.observer import FanOut, Observer, Recorder

__all__ = ["FanOut", "Observer", "Recorder"]
