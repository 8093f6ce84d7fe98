"""The per-job series render the same exposition whether kept as plain numbers (one
process) or in prometheus-client's standard objects (multiprocess mode)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest

from jobglass.observe.job_series import PlainJobSeries, StandardJobSeries
from jobglass.observe.metrics import DURATION_BUCKETS, WAIT_BUCKETS

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _scripted(kind: type[PlainJobSeries] | type[StandardJobSeries]) -> CollectorRegistry:
    registry = CollectorRegistry()
    series = kind(registry, DURATION_BUCKETS, WAIT_BUCKETS)
    series.claimed("mail", "send")
    series.claimed("mail", "send")
    series.claimed("reports", "")
    series.waited("mail", 0.2, TRACE)
    series.waited("mail", 10 ** 6, None)  # past the last bound: +Inf only
    series.waited("reports", 0.0, None)
    series.ended("mail", "send", "succeeded", 0.003, TRACE)
    series.ended("mail", "send", "failed", 7.0, None)
    series.ended("mail", "send", "succeeded", 0.005, None)  # on a bound: counted in it
    return registry


def _lines(text: bytes) -> list[str]:
    return sorted(line for line in text.decode().splitlines()
                  if "_created" not in line and not line.startswith("# EOF"))


def test_plain_and_standard_series_expose_the_same_figures() -> None:
    plain = _lines(generate_latest(_scripted(PlainJobSeries)))
    standard = _lines(generate_latest(_scripted(StandardJobSeries)))
    assert plain == standard
    assert 'jobglass_job_duration_seconds_bucket{le="0.005",outcome="succeeded",queue="mail",' \
           'task="send"} 2.0' in plain
    assert 'jobglass_queue_wait_seconds_count{queue="mail"} 2.0' in plain
    assert 'jobglass_jobs_claimed_total{queue="mail",task="send"} 2.0' in plain


@pytest.mark.parametrize("kind", [PlainJobSeries, StandardJobSeries])
def test_exemplars_ride_on_the_bucket_of_their_value(
        kind: type[PlainJobSeries] | type[StandardJobSeries]) -> None:
    text = openmetrics_latest(_scripted(kind)).decode()
    [wait] = [line for line in text.splitlines() if "trace_id" in line and "queue_wait" in line]
    assert wait.startswith('jobglass_queue_wait_seconds_bucket{le="0.25",queue="mail"} 1.0 # ')
    assert f'trace_id="{TRACE}"' in wait
