"""Retry delays: exponential ceiling, jitter in [ceiling/2, ceiling], a cap."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobglass.model.backoff import backoff_delay

errors_st = st.integers(min_value=1, max_value=10_000)
base_st = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)
cap_st = st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)


class FixedDraw(random.Random):
    """A `random.Random` whose `random()` always returns one value."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def ceiling(errors: int, base: float, cap: float) -> float:
    return min(cap, base * 2.0 ** min(errors - 1, 60))


@given(errors=errors_st, base=base_st, cap=cap_st, seed=st.integers(0, 2**32))
def test_delay_within_bounds(errors: int, base: float, cap: float, seed: int) -> None:
    top = ceiling(errors, base, cap)
    delay = backoff_delay(errors, base, cap, random.Random(seed))
    assert top / 2 <= delay <= top
    assert delay <= cap
    assert math.isfinite(delay)


@given(errors=errors_st, base=base_st, cap=cap_st,
       draw=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_delay_within_bounds_for_any_draw(errors: int, base: float, cap: float,
                                          draw: float) -> None:
    top = ceiling(errors, base, cap)
    delay = backoff_delay(errors, base, cap, FixedDraw(draw))
    assert top / 2 <= delay <= top


@given(errors=errors_st, base=base_st, cap=cap_st)
def test_extremes_of_the_draw(errors: int, base: float, cap: float) -> None:
    top = ceiling(errors, base, cap)
    assert backoff_delay(errors, base, cap, FixedDraw(0.0)) == top / 2
    assert backoff_delay(errors, base, cap, FixedDraw(1.0)) == pytest.approx(top)


@given(errors=st.integers(min_value=1, max_value=200), base=base_st, cap=cap_st,
       draw=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_monotone_in_errors(errors: int, base: float, cap: float, draw: float) -> None:
    """With the same draw, one more failure never waits less."""
    now = backoff_delay(errors, base, cap, FixedDraw(draw))
    after = backoff_delay(errors + 1, base, cap, FixedDraw(draw))
    assert after >= now


@given(errors=st.integers(min_value=1, max_value=40),
       base=st.floats(min_value=0.001, max_value=100.0))
def test_ceiling_doubles_until_the_cap(errors: int, base: float) -> None:
    cap = 1e15  # out of reach: 100 * 2**39 < 1e14
    top = backoff_delay(errors, base, cap, FixedDraw(0.0)) * 2
    assert top == pytest.approx(base * 2 ** (errors - 1))


@given(errors=st.integers(min_value=1, max_value=10_000),
       base=st.floats(min_value=0.001, max_value=1e6), cap=st.floats(0.0, 600.0))
def test_cap_respected(errors: int, base: float, cap: float) -> None:
    assert backoff_delay(errors, base, cap) <= cap


def test_huge_error_counts_do_not_overflow() -> None:
    assert backoff_delay(10**9, 1.0, 300.0, FixedDraw(0.0)) == 150.0


def test_first_failures() -> None:
    assert backoff_delay(1, 2.0, 300.0, FixedDraw(0.0)) == 1.0
    assert backoff_delay(2, 2.0, 300.0, FixedDraw(0.0)) == 2.0
    assert backoff_delay(3, 2.0, 300.0, FixedDraw(0.0)) == 4.0


def test_uses_module_random_when_no_rng_given() -> None:
    delays = {backoff_delay(5, 1.0, 300.0) for _ in range(50)}
    assert all(8.0 <= d <= 16.0 for d in delays)
    assert len(delays) > 1  # jittered


@given(errors=st.integers(max_value=0), base=base_st, cap=cap_st)
def test_errors_below_one_raise(errors: int, base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        backoff_delay(errors, base, cap)


@given(errors=errors_st, base=st.floats(max_value=-1e-9, allow_infinity=False), cap=cap_st)
def test_negative_base_raises(errors: int, base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="negative"):
        backoff_delay(errors, base, cap)


@given(errors=errors_st, base=base_st, cap=st.floats(max_value=-1e-9, allow_infinity=False))
def test_negative_cap_raises(errors: int, base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="negative"):
        backoff_delay(errors, base, cap)


@pytest.mark.parametrize(("base", "cap"), [(math.nan, 10.0), (1.0, math.nan),
                                           (math.inf, 10.0), (1.0, math.inf)])
def test_non_finite_raises(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        backoff_delay(3, base, cap)
