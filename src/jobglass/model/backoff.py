"""Retry delays: exponential with full jitter and a cap."""

from __future__ import annotations

import math
import random


def backoff_delay(errors: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before the retry that follows the `errors`-th counted failure.

    The ceiling doubles per failure (base, 2*base, 4*base, ...) up to `cap`; the
    delay is drawn from [ceiling/2, ceiling] so a crowd of failures spreads out but
    never retries sooner than half the nominal delay.
    """
    if errors < 1:
        raise ValueError("errors counts failures so far and starts at 1")
    if not (math.isfinite(base) and math.isfinite(cap)):
        raise ValueError("base and cap must be finite numbers")
    if base < 0 or cap < 0:
        raise ValueError("base and cap must not be negative")
    ceiling = min(cap, base * 2.0 ** min(errors - 1, 60))
    draw = (rng or random).random()
    return ceiling / 2.0 + draw * ceiling / 2.0
