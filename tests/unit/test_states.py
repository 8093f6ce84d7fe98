"""The transition table in `model.states`, checked pair by pair."""

from __future__ import annotations

import itertools

import pytest

from jobglass.model import (
    ACTIVE,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    JobState,
    check_transition,
    is_legal,
    sources_of,
)

S = JobState

# Written out by hand, independently of the module, from the documented diagram.
EXPECTED: set[tuple[JobState, JobState]] = {
    (S.BLOCKED, S.QUEUED),
    (S.BLOCKED, S.CANCELLED),
    (S.QUEUED, S.RUNNING),
    (S.QUEUED, S.CANCELLED),
    (S.RUNNING, S.SUCCEEDED),
    (S.RUNNING, S.QUEUED),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.CANCELLED),
    (S.FAILED, S.QUEUED),
    (S.FAILED, S.BLOCKED),
    (S.CANCELLED, S.QUEUED),
    (S.CANCELLED, S.BLOCKED),
}

ALL_PAIRS = list(itertools.product(JobState, JobState))


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(JobState)


def test_table_is_exactly_the_documented_one() -> None:
    table = {(src, dst) for src, targets in TRANSITIONS.items() for dst in targets}
    assert table == EXPECTED


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=lambda s: s.value)
def test_is_legal_iff_in_table(source: JobState, target: JobState) -> None:
    assert is_legal(source, target) is ((source, target) in EXPECTED)


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=lambda s: s.value)
def test_check_transition(source: JobState, target: JobState) -> None:
    if (source, target) in EXPECTED:
        check_transition(source, target)  # does not raise
        return
    with pytest.raises(IllegalTransition) as caught:
        check_transition(source, target)
    assert caught.value.source == source.value
    assert caught.value.target == target.value
    assert f"cannot go from {source.value} to {target.value}" in str(caught.value)


@pytest.mark.parametrize("state", list(JobState), ids=lambda s: s.value)
def test_no_self_loops(state: JobState) -> None:
    assert not is_legal(state, state)


def test_terminal_and_active() -> None:
    assert {S.SUCCEEDED, S.FAILED, S.CANCELLED} == TERMINAL
    assert {S.BLOCKED, S.QUEUED, S.RUNNING} == ACTIVE
    assert TERMINAL.isdisjoint(ACTIVE)
    assert set(JobState) == TERMINAL | ACTIVE


def test_terminal_states_are_left_only_by_a_manual_retry() -> None:
    for state in TERMINAL:
        assert TRANSITIONS[state] <= {S.QUEUED, S.BLOCKED}
        assert not is_legal(state, S.RUNNING)


def test_only_a_manual_retry_enters_blocked() -> None:
    assert sources_of(S.BLOCKED) == (S.FAILED, S.CANCELLED)


@pytest.mark.parametrize("target", list(JobState), ids=lambda s: s.value)
def test_sources_of(target: JobState) -> None:
    expected = tuple(s for s in JobState if (s, target) in EXPECTED)  # enum order
    assert sources_of(target) == expected


def test_sources_of_named_cases() -> None:
    assert sources_of(S.CANCELLED) == (S.BLOCKED, S.QUEUED, S.RUNNING)
    assert sources_of(S.QUEUED) == (S.BLOCKED, S.RUNNING, S.FAILED, S.CANCELLED)
    assert sources_of(S.RUNNING) == (S.QUEUED,)
    assert sources_of(S.SUCCEEDED) == (S.RUNNING,)


def test_illegal_transition_names_the_job() -> None:
    err = IllegalTransition("succeeded", "queued", job_id=7)
    assert str(err) == "job 7: cannot go from succeeded to queued"
    assert err.job_id == 7
