"""The health verdict's pure functions: one sample and thresholds in, checks out."""

from __future__ import annotations

from typing import Any

import pytest

from jobglass.model import JobState, QueueStats
from jobglass.model.health import HealthSample, Suspect, Throughput
from jobglass.observe.health import Status, Thresholds, check_store, verdict
from jobglass.observe.redact import REDACTED, Redactor

NOW = 1_000_000.0


def queue(name: str, oldest: float | None, *, paused: bool = False) -> QueueStats:
    return QueueStats(queue=name, counts={JobState.QUEUED: 1}, oldest_ready_age=oldest,
                      paused=paused)


def sample(**fields: object) -> HealthSample:
    base: dict[str, object] = {"now": NOW, "window": 300.0, "queues": [], "throughput": []}
    base.update(fields)
    return HealthSample(**base)  # type: ignore[arg-type]


def run(s: HealthSample, t: Thresholds | None = None) -> dict[str, Any]:
    v = verdict(s, t or Thresholds(), check_store(None, None, NOW))
    return {"status": v.status, **{c.name: c for c in v.checks}}


def test_quiet_is_ok() -> None:
    assert run(sample())["status"] is Status.OK


def test_a_job_past_its_timeout_is_stuck_only_after_the_grace() -> None:
    def job(started: float) -> Suspect:
        return Suspect(job_id=1, queue="q", task="t", started_at=started, timeout=10,
                       worker_id="w", worker_state="running", last_heartbeat=NOW)

    assert run(sample(suspects=[job(NOW - 12)]))["status"] is Status.OK  # 2s over, 5s grace
    found = run(sample(suspects=[job(NOW - 20)]))
    stuck = found["stuck_jobs"]
    assert found["status"] is Status.DEGRADED
    assert stuck.jobs == (1,)
    assert "10.0s past its 10s timeout" in stuck.message


def test_silent_workers_are_stuck_then_dead() -> None:
    def held(silence: float) -> Suspect:
        return Suspect(job_id=7, queue="q", task="t", started_at=NOW - 100, timeout=None,
                       worker_id="w1", worker_state="running", last_heartbeat=NOW - silence,
                       host="h", pid=9)

    t = Thresholds(stale_heartbeat=10, worker_dead_after=30)
    assert run(sample(suspects=[held(5)]), t)["status"] is Status.OK
    degraded = run(sample(suspects=[held(20)]), t)
    assert degraded["status"] is Status.DEGRADED
    assert degraded["dead_workers"].status is Status.OK
    failing = run(sample(suspects=[held(40)]), t)
    dead = failing["dead_workers"]
    assert failing["status"] is Status.FAILING
    assert dead.workers == ("w1",)
    assert dead.jobs == (7,)
    assert "h pid 9" in dead.message
    gone = Suspect(job_id=8, queue="q", task="t", started_at=NOW, timeout=None, worker_id="x")
    assert run(sample(suspects=[gone]), t)["status"] is Status.FAILING


def test_a_worker_with_a_longer_lease_is_given_it() -> None:
    # Thresholds are set for the default 30 s lease; a worker running with a 120 s lease
    # (heartbeat every 40 s) is neither stale nor dead at 35 s, and dead past 120 s.
    def held(silence: float, lease: float | None) -> Suspect:
        return Suspect(job_id=7, queue="q", task="t", started_at=NOW - 200, timeout=None,
                       worker_id="w1", worker_state="running", last_heartbeat=NOW - silence,
                       lease=lease)

    t = Thresholds(stale_heartbeat=15, worker_dead_after=30)
    assert run(sample(suspects=[held(35, None)]), t)["status"] is Status.FAILING
    assert run(sample(suspects=[held(35, 120.0)]), t)["status"] is Status.OK
    assert run(sample(suspects=[held(70, 120.0)]), t)["status"] is Status.DEGRADED
    assert run(sample(suspects=[held(125, 120.0)]), t)["status"] is Status.FAILING
    # A shorter lease does not make the verdict jumpier than its thresholds.
    assert run(sample(suspects=[held(10, 3.0)]), t)["status"] is Status.OK


def test_no_progress_needs_both_old_ready_work_and_no_recent_finish() -> None:
    t = Thresholds(no_progress_after=60, oldest_ready=1000)
    waiting = [queue("a", 100.0), queue("b", 5.0)]
    assert run(sample(queues=waiting, last_finished_at=NOW - 10), t)["status"] is Status.OK
    assert run(sample(queues=[queue("a", 30.0)], last_finished_at=None), t)["status"] \
        is Status.OK
    stalled = run(sample(queues=waiting, last_finished_at=NOW - 90), t)["no_progress"]
    assert stalled.status is Status.FAILING
    assert stalled.queues == ("a",)
    assert stalled.observed == 90
    paused = [queue("a", 100.0, paused=True)]
    assert run(sample(queues=paused), t)["status"] is Status.OK


def test_oldest_ready_per_queue_limits() -> None:
    t = Thresholds(oldest_ready=60, queue_oldest_ready={"bulk": 600}, no_progress_after=1e9)
    found = run(sample(queues=[queue("bulk", 300.0), queue("mail", 90.0)]), t)["oldest_ready"]
    assert found.status is Status.DEGRADED
    assert found.queues == ("mail",)


def test_failure_rate_needs_enough_jobs() -> None:
    t = Thresholds(failure_rate=0.2, failure_min_jobs=10)
    few = Throughput(queue="q", window=300, succeeded=1, failed=4)
    assert run(sample(throughput=[few]), t)["status"] is Status.OK
    many = Throughput(queue="q", window=300, succeeded=5, failed=5, cancelled=50)
    found = run(sample(throughput=[many]), t)["failure_rate"]
    assert found.status is Status.DEGRADED
    assert found.observed == 0.5


def test_no_sample_means_the_store_fails_and_the_rest_are_unknown() -> None:
    v = verdict(None, Thresholds(), check_store("disk on fire", NOW - 30, NOW))
    assert v.status is Status.FAILING
    assert v.checks[0].observed == 30
    assert {c.status for c in v.checks[1:]} == {Status.UNKNOWN}
    assert v.as_dict()["checks"][0]["message"].endswith("disk on fire")


def test_thresholds_from_text() -> None:
    t = Thresholds().with_overrides({"no_progress_after": "60", "oldest_ready.mail": "5",
                                     "failure_min_jobs": "3"})
    assert (t.no_progress_after, t.limit_for("mail"), t.limit_for("x"), t.failure_min_jobs) \
        == (60, 5, 300, 3)
    with pytest.raises(ValueError, match="unknown health threshold"):
        Thresholds().with_overrides({"nope": "1"})
    with pytest.raises(ValueError, match="must be a number"):
        Thresholds().with_overrides({"window": "soon"})
    with pytest.raises(ValueError, match="window must be > 0"):
        Thresholds(window=0)


def test_redaction_walks_nested_values_and_leaves_positional_ones() -> None:
    r = Redactor(["pin"])
    value = {"Password": "x", "nested": [{"accessToken": "y", "ok": 1}], "PIN_code": 1,
             "list": ["password"]}
    assert r(value) == {"Password": REDACTED, "nested": [{"accessToken": REDACTED, "ok": 1}],
                        "PIN_code": REDACTED, "list": ["password"]}
    assert r(["secret"]) == ["secret"]
    assert r(None) is None
    assert not Redactor(defaults=False).secret("password")
