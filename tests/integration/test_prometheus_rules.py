"""The shipped Prometheus rules (deploy/prometheus): promtool accepts them, their own
unit tests pass (each alert fires on the series that should raise it and stays quiet
on its neighbours), and every jobglass series they read is one jobglass serves — a
renamed metric breaks this test, not a pager at 3 AM. Without promtool (Debian's
`prometheus` package; scripts/test installs it as root) the promtool tests skip
loudly, and fail under CI=true."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path

from unavailable import unavailable

from jobglass import App
from jobglass.model import Outcome
from jobglass.observe import events as ev
from jobglass.observe.exporter import MetricsExporter
from jobglass.observe.observer import FanOut

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = RULES_DIR / "jobglass.rules.yml"
RULE_TESTS = RULES_DIR / "jobglass.rules.test.yml"


def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    unavailable("PROMTOOL TESTS", "promtool is not installed (apt-get install -y"
                " prometheus, or run scripts/test as root)")


def run_promtool(*args: str) -> str:
    done = subprocess.run([promtool(), *args], cwd=RULES_DIR, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_promtool_accepts_the_rules() -> None:
    assert "SUCCESS" in run_promtool("check", "rules", RULES.name)


def test_each_alert_fires_when_it_should_and_only_then() -> None:
    assert "SUCCESS" in run_promtool("test", "rules", RULE_TESTS.name)


async def served_series_names(app: App) -> set[str]:
    """Every series name jobglass's /metrics can carry, read off a real exposition
    after each kind of event and a store sample."""
    exporter = MetricsExporter()
    fanout = FanOut()
    exporter.attach(fanout)
    store = await app.astore()
    [job] = await store.enqueue_many([app.spec_for("t")])
    job.started_at = job.run_at
    fanout.handle(ev.JobEnqueued(job))
    fanout.handle(ev.JobClaimed(job, "w"))
    fanout.handle(ev.JobSucceeded(job, 0.1))
    fanout.handle(ev.StaleReport(job.id, "lease", Outcome.SUCCEEDED))
    text, _ = await exporter.render(store, None)
    unsampled, _ = await MetricsExporter().render(None, None)  # as while the store is down
    names = {line.split("{")[0].split(" ")[0]
             for line in (text + unsampled).decode().splitlines()
             if line and not line.startswith("#")}
    # Counters that have not moved yet have no samples; their families are declared.
    for family in exporter.registry.collect():
        if family.type == "counter":
            names.add(family.name + "_total")
    return names


async def test_the_rules_read_only_series_jobglass_serves(tmp_path: Path) -> None:
    app = App(f"sqlite:///{tmp_path}/rules.db")
    try:
        served = await served_series_names(app)
    finally:
        await app.aclose()
    used = set(re.findall(r"\bjobglass_[a-z_]+", RULES.read_text()))
    assert used, "the rules read no jobglass series"
    assert used - served == set()
    # The drift check itself sees what the rules lean on most.
    assert {"jobglass_queue_oldest_ready_age_seconds", "jobglass_jobs_finished_total",
            "jobglass_queue_wait_seconds_bucket", "jobglass_jobs_reaped_total"} <= served


# -- the Grafana dashboard (deploy/grafana): same metric names, valid PromQL ----------

DASHBOARD = RULES_DIR.parent / "grafana" / "jobglass.dashboard.json"
_GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$queue": ".*"}


def dashboard_queries() -> list[str]:
    data = json.loads(DASHBOARD.read_text("utf-8"))
    panels = [p for p in data["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in data["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    queries = []
    for panel in panels:
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"  # the chosen Prometheus
            queries.append(target["expr"])
    return queries


def test_the_dashboard_reads_only_series_jobglass_serves_and_shows_the_stuck_gauge(
        tmp_path: Path) -> None:
    text = DASHBOARD.read_text("utf-8")
    used = set(re.findall(r"\bjobglass_[a-z_]+", text))
    app = App(f"sqlite:///{tmp_path}/grafana.db")
    try:
        served = asyncio.run(served_series_names(app))
    finally:
        asyncio.run(app.aclose())
    assert used - served == set()
    assert {"jobglass_jobs_stuck", "jobglass_store_up",
            "jobglass_queue_wait_seconds_bucket"} <= used


def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    rules = ["groups:", "  - name: grafana-queries", "    rules:"]
    for n, expr in enumerate(dashboard_queries()):
        for variable, value in _GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"an unknown Grafana variable in {expr!r}"
        rules += [f"      - record: grafana:query_{n}", f"        expr: {json.dumps(expr)}"]
    path = tmp_path / "dashboard.rules.yml"
    path.write_text("\n".join(rules) + "\n", "utf-8")
    assert "SUCCESS" in run_promtool("check", "rules", str(path))
