"""Exceptions a task raises to steer its own retry."""

from __future__ import annotations


class Retry(Exception):
    """Retry this job after `delay` seconds (spends one retry from the budget)."""

    def __init__(self, delay: float, message: str = "") -> None:
        super().__init__(message or f"retry requested in {delay}s")
        if delay < 0:
            raise ValueError("delay must not be negative")
        self.delay = delay


class DontRetry(Exception):
    """Fail this job now, whatever budget is left."""
