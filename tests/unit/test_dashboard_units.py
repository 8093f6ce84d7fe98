"""The dashboard's pure parts: the signed session cookie, CSRF tokens, the chart series
and the template filters."""

from __future__ import annotations

from jobglass.model.stats import MinuteStats
from jobglass.web.dashboard.charts import last_hour
from jobglass.web.dashboard.filters import ago, compact, duration, trace_link
from jobglass.web.dashboard.session import Session, Sessions, new_session


def test_a_session_cookie_round_trips_and_refuses_tampering() -> None:
    sessions = Sessions("k1")
    made = new_session(token_hash="ab" * 32, name="ops", scope="read", now=1000.0)
    cookie = sessions.encode(made)
    assert "ops" not in cookie.split(".")[1]
    assert sessions.decode(cookie, now=1001.0) == made
    assert sessions.decode(cookie, now=made.expires + 1) is None  # expired
    assert Sessions("k2").decode(cookie, now=1001.0) is None  # another server's key
    body, mac = cookie.split(".")
    forged = Sessions("k1").encode(Session(sid=made.sid, token_hash="cd" * 32,
                                           expires=made.expires))
    assert sessions.decode(forged.split(".")[0] + "." + mac, now=1001.0) is None
    for junk in ("", "x", "a.b.c", body + ".", "." + mac, "%%%.***"):
        assert sessions.decode(junk, now=1001.0) is None


def test_csrf_tokens_belong_to_one_session() -> None:
    sessions = Sessions("k")
    one, two = new_session(), new_session()
    assert one.sid != two.sid
    assert sessions.csrf_ok(one, sessions.csrf(one))
    assert not sessions.csrf_ok(one, sessions.csrf(two))
    assert not sessions.csrf_ok(one, "")
    assert not sessions.csrf_ok(None, sessions.csrf(one))
    assert Sessions("other").csrf(one) != sessions.csrf(one)


def test_the_last_hour_sums_queues_per_minute() -> None:
    now = 60 * 1_000_000 + 30.0
    minute = int(now // 60)
    a = MinuteStats(minute=minute, queue="a", succeeded=3, failed=1)
    a.add_wait(0.004)
    b = MinuteStats(minute=minute, queue="b", succeeded=2, retried=1)
    b.add_wait(2.0)
    old = MinuteStats(minute=minute - 60, queue="a", succeeded=99)  # outside the hour
    done, wait = last_hour([a, b, old], now)
    assert len(done.minutes) == 60
    assert done.minutes[-1] == minute
    assert [ln.values[-1] for ln in done.lines] == [5.0, 1.0, 1.0]
    assert done.total == {"succeeded": 5, "failed": 1, "retried": 1}
    assert [ln.values[-1] for ln in wait.lines] == [0.005, 2.5, 2.5]
    assert wait.lines[0].values[0] is None  # an empty minute has no percentile
    assert done.rows() == [(minute * 60, [5.0, 1.0, 1.0])]
    assert done.data()["x"][-1] == minute * 60
    assert done.lines[0].points.endswith(f"600.0,{4.0:.1f}")  # the peak touches the top


def test_filters() -> None:
    assert duration(0.25) == "250ms"
    assert duration(4.25) == "4.2s"
    assert duration(200) == "3m 20s"
    assert duration(7500) == "2h 05m"
    assert duration(90000) == "1d 1h"
    assert ago(100.0, now=112.0) == "12s ago"
    assert ago(130.0, now=100.0) == "in 30s"
    assert ago(None) == ""
    assert compact({"a": "x" * 200}, 20).endswith("…")
    assert trace_link("abc", "http://j/trace/{trace_id}") == "http://j/trace/abc"
    assert trace_link("abc", None) is None
    assert trace_link(None, "http://j/{trace_id}") is None
