"""Attempt tracebacks read exactly as the stdlib's, and repeated frames are formatted once."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

import pytest

from jobglass.worker import tracebacks
from jobglass.worker.tracebacks import format_exception


def _deep(n: int) -> None:
    if n == 0:
        raise ValueError("bottom")
    _deep(n - 1)


def _caught(fn: Callable[[], object]) -> BaseException:
    try:
        fn()
    except BaseException as exc:
        return exc
    raise AssertionError("nothing raised")


def _chained() -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        raise RuntimeError("lookup failed") from exc


def _implicit() -> None:
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        raise ValueError("while handling")  # noqa: B904 - the implicit context is the point


def _group() -> None:
    raise ExceptionGroup("several", [_caught(lambda: _deep(2)), _caught(_chained)])


def _recursion() -> None:
    _recursion()


CASES: dict[str, Callable[[], object]] = {
    "plain": lambda: _deep(3),
    "cause": _chained,
    "context": _implicit,
    "group": _group,
    "recursion": _recursion,
    "expression": lambda: [1, 2][len(sys.argv) + 5],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_text_is_the_stdlibs(case: str) -> None:
    exc = _caught(CASES[case])
    expected = "".join(traceback.format_exception(exc))
    assert format_exception(exc) == expected
    assert format_exception(exc) == expected  # the second time from the kept frames


def test_an_exception_never_raised_has_no_stack() -> None:
    exc = RuntimeError("made, not raised")
    assert format_exception(exc) == "".join(traceback.format_exception(exc))


def test_a_frame_seen_before_is_not_formatted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracebacks, "_texts", {})
    formatted: list[int] = []
    original = traceback.StackSummary.format_frame_summary

    def counting(self: traceback.StackSummary, frame: traceback.FrameSummary) -> str:
        formatted.append(frame.lineno or 0)
        return original(self, frame)

    monkeypatch.setattr(traceback.StackSummary, "format_frame_summary", counting)

    def fail() -> None:
        _deep(3)

    first = format_exception(_caught(fail))
    once = len(formatted)
    # Six frames, four places: _deep's recursive call is formatted once for three frames.
    assert once == 4
    assert format_exception(_caught(fail)) == first
    assert len(formatted) == once  # the same failure again: every frame already known
