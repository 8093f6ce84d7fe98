"""jobglass against its peers, side by side, in one run on one machine.

    .venv/bin/python -m bench [--quick] [--only drain,latency,...] [--peers huey_sqlite,...]
                              [--out FILE]

Workloads (issue #7): enqueue (one at a time and batched), drain (N pre-enqueued
no-ops, one worker process; its RSS sampled once it is running and at the end:
workload 5), latency (idle enqueue-call -> task-start, p50/p99), sleep (jobs that
sleep 10 ms, concurrency 50), scrape (/metrics and the health verdict at 1,000,000
finished jobs; jobglass only) and obs (full-observability drain kept %; jobglass
only). Peers run under bench/.peers-venv (created from bench/requirements-peers.txt
on first use, never the project's venv); jobglass under the interpreter running
this. Every system/workload pair runs in its own process with a deadline; one that
fails or overruns is "n/a" with its reason, and the run goes on. The report is
written to bench/results/YYYY-MM-DD[-quick].md and printed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PEERS_VENV = BENCH / ".peers-venv"
PEERS_PY = PEERS_VENV / "bin" / "python"
REQUIREMENTS = BENCH / "requirements-peers.txt"
RESULTS = BENCH / "results"


# -- the systems ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class System:
    name: str  # adapter module under bench/peers/
    label: str
    storage: str  # sqlite | postgres | redis
    baseline: str  # the jobglass row its ratio is taken against
    durability: str
    ack: str
    jobglass: bool = False


SQLITE_BASE = "jobglass_sqlite"
PG_BASE = "jobglass_pg"

SYSTEMS: tuple[System, ...] = (
    System("jobglass_sqlite", "jobglass SQLite", "sqlite", SQLITE_BASE,
           "WAL, synchronous=FULL (set by URL to match Huey's default)",
           "state changes are compare-and-set on (id, state, lease); a lease the reaper "
           "takes back re-queues the job (at-least-once)", jobglass=True),
    System("jobglass_sqlite_normal", "jobglass SQLite (NORMAL)", "sqlite", SQLITE_BASE,
           "WAL, synchronous=NORMAL (jobglass's default)", "as above", jobglass=True),
    System("jobglass_pg", "jobglass PostgreSQL", "postgres", PG_BASE,
           "server defaults: fsync on, synchronous_commit on",
           "as above; LISTEN/NOTIFY wake-ups", jobglass=True),
    System("huey_sqlite", "Huey 3.5 SQLite", "sqlite", SQLITE_BASE,
           "SqliteHuey defaults: WAL, synchronous unset = SQLite's FULL",
           "dequeue deletes the row before the task runs: no ack, a crash loses it "
           "(at-most-once); consumer polls (0.1 s, backing off to 10 s when idle)"),
    System("pgqueuer_pg", "PgQueuer 1.6", "postgres", PG_BASE,
           "durability=durable (all tables logged); server fsync and synchronous_commit on",
           "row 'picked' until the entrypoint returns, then deleted+logged (buffered); "
           "stalled jobs retried after the heartbeat timeout"),
    System("procrastinate_pg", "Procrastinate 3.10", "postgres", PG_BASE,
           "server fsync and synchronous_commit on",
           "'doing' until it returns, then 'succeeded'; a dead worker's job stays 'doing' "
           "until a stalled-job retry is run"),
    System("celery_redis", "Celery 5.6 Redis", "redis", SQLITE_BASE,
           "Redis as started here: appendonly no, save \"\" (no persistence at all)",
           "task_acks_late=True: acked after the task returns (unacked hash + visibility "
           "timeout); no result backend"),
    System("rq_redis", "RQ 3.0 Redis", "redis", SQLITE_BASE,
           "Redis: no persistence (as above)",
           "job in StartedJobRegistry while it runs; a dead worker's job is marked "
           "abandoned/failed, not re-run; forks a work horse per job"),
    System("dramatiq_redis", "Dramatiq 2.2 Redis", "redis", SQLITE_BASE,
           "Redis: no persistence (as above)",
           "acked after the actor returns (message kept in the .msgs hash until then); "
           "a dead worker's unacked messages are re-queued"),
    System("arq_redis", "arq 0.28 Redis", "redis", SQLITE_BASE,
           "Redis: no persistence (as above)",
           "job deleted after completion; in-progress key expires so a dead worker's job "
           "re-runs; polls every 0.5 s (poll_delay default)"),
    System("saq_redis", "SAQ 0.26 Redis", "redis", SQLITE_BASE,
           "Redis: no persistence (as above)",
           "job in the active list until it finishes; the sweeper re-queues a dead "
           "worker's job"),
)
BY_NAME = {s.name: s for s in SYSTEMS}


# -- sizes --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sizes:
    enqueue_single: int
    enqueue_batched: int
    enqueue_deadline: float
    drain: int
    drain_deadline: float  # peers; jobglass gets drain_deadline_jobglass
    drain_deadline_jobglass: float
    latency: int
    latency_deadline: float
    sleep: int
    sleep_deadline: float
    scrape_finished: int
    scrape_rounds: int
    obs_n: int
    obs_rounds: int

    @classmethod
    def pick(cls, quick: bool) -> Sizes:
        if quick:
            return cls(1_000, 10_000, 15, 10_000, 20, 60, 100, 15, 2_000, 20,
                       100_000, 10, 5_000, 1)
        return cls(5_000, 50_000, 30, 100_000, 40, 150, 500, 30, 10_000, 45,
                   1_000_000, 30, 20_000, 3)


# -- running one measurement ---------------------------------------------------------
@dataclass(slots=True)
class Outcome:
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def _python_for(system: System) -> str:
    return sys.executable if system.jobglass else str(PEERS_PY)


def _run(argv: Sequence[str], timeout: float, log: Path) -> Outcome:
    """Run argv in its own process group; kill the group on overrun. Never raises."""
    began = time.monotonic()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    env.pop("VIRTUAL_ENV", None)
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=out, start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return Outcome(error=f"timed out after {timeout:.0f} s",
                           seconds=time.monotonic() - began)
        finally:
            _kill_group(proc)  # the worker it started, should it have outlived it
        out.write(stdout)
    text = stdout.decode(errors="replace")
    line = next((x for x in reversed(text.splitlines()) if x.startswith("RESULT ")), None)
    if line is None:
        return Outcome(error=f"no result (exit {proc.returncode})",
                       seconds=time.monotonic() - began)
    result = json.loads(line.removeprefix("RESULT "))
    error = result.get("error")
    return Outcome(result=result, error=error, seconds=time.monotonic() - began)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run_driver(system: System, workload: str, args: Sequence[str], timeout: float,
               log: Path) -> Outcome:
    argv = [_python_for(system), "-m", "bench.peers.driver", system.name, workload, *args]
    outcome = _run(argv, timeout, log)
    if outcome.error and "timed out after" not in outcome.error:
        # one more try: the shared PostgreSQL/Redis may have been restarted under us
        print(f"   {system.name}/{workload}: {outcome.error}; trying once more", flush=True)
        time.sleep(5)
        outcome = _run(argv, timeout, log)
    return outcome


# -- peers venv ------------------------------------------------------------------------
def ensure_peers_venv() -> None:
    """Create bench/.peers-venv from requirements-peers.txt (again when it changed)."""
    stamp = PEERS_VENV / ".requirements.sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if PEERS_PY.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return
    print(f"creating {PEERS_VENV.relative_to(ROOT)} from {REQUIREMENTS.name} ...", flush=True)
    if not PEERS_PY.exists():
        base = os.environ.get("BENCH_PEERS_PYTHON") or _base_python()
        subprocess.run([base, "-m", "venv", str(PEERS_VENV)], check=True)
    subprocess.run([str(PEERS_PY), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
                   check=True)
    stamp.write_text(digest + "\n")


def _base_python() -> str:
    """The interpreter the project's venv was made from (not the venv itself)."""
    return getattr(sys, "_base_executable", None) or sys.executable


# -- formatting -------------------------------------------------------------------------
def fmt(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text}{unit}"


def ratio(value: float | None, base: float | None) -> str:
    if value is None or base is None or base == 0:
        return "n/a"
    return f"{value / base:.2f}"


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.add("| " + " | ".join(header) + " |",
                 "|" + "|".join("---" for _ in header) + "|",
                 *("| " + " | ".join(r) + " |" for r in rows), "")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# -- workloads ---------------------------------------------------------------------------
Results = dict[str, dict[str, Outcome]]  # workload -> system -> outcome


def _na(outcome: Outcome | None) -> str:
    if outcome is None:
        return "not run"
    return f"n/a: {outcome.error}"


def _base(results: Results, workload: str, system: System) -> dict[str, Any] | None:
    base = results.get(workload, {}).get(system.baseline)
    return base.result if base and not base.error else None


def measure(workload: str, systems: Sequence[System], sizes: Sizes,
            log: Path) -> dict[str, Outcome]:
    out: dict[str, Outcome] = {}
    for system in systems:
        if workload == "enqueue":
            args = ["--n", str(sizes.enqueue_single), "--n2", str(sizes.enqueue_batched),
                    "--deadline", str(sizes.enqueue_deadline)]
            timeout = 3 * sizes.enqueue_deadline + 60
        elif workload == "drain":
            deadline = (sizes.drain_deadline_jobglass if system.jobglass
                        else sizes.drain_deadline)
            args = ["--n", str(sizes.drain), "--deadline", str(deadline)]
            timeout = deadline + 240  # prefill of N one by one for peers without batches
        elif workload == "latency":
            args = ["--n", str(sizes.latency), "--deadline", str(sizes.latency_deadline)]
            timeout = sizes.latency_deadline + 120
        elif workload == "sleep":
            args = ["--n", str(sizes.sleep), "--deadline", str(sizes.sleep_deadline)]
            timeout = sizes.sleep_deadline + 120
        else:
            raise ValueError(workload)
        print(f"-- {workload}: {system.label}", flush=True)
        outcome = run_driver(system, workload, args, timeout, log)
        print(f"   {outcome.seconds:.0f}s {outcome.error or _brief(outcome.result)}", flush=True)
        out[system.name] = outcome
    return out


def _brief(result: dict[str, Any]) -> str:
    keys = ("single_per_s", "batched_per_s", "rate", "p50_ms", "p99_ms", "rss_before_kb",
            "rss_after_kb", "done", "na")
    return ", ".join(f"{k}={fmt(result[k]) if isinstance(result[k], float) else result[k]}"
                     for k in keys if k in result)


def measure_jobglass_only(workload: str, sizes: Sizes, log: Path) -> Outcome:
    if workload == "scrape":
        args = ["scrape", "--finished", str(sizes.scrape_finished),
                "--rounds", str(sizes.scrape_rounds)]
        timeout = 900.0
    else:
        args = ["obs", "--n", str(sizes.obs_n), "--rounds", str(sizes.obs_rounds)]
        timeout = 900.0
    print(f"-- {workload}: jobglass", flush=True)
    outcome = _run([sys.executable, "-m", "bench.peers.jobglass_observe", *args], timeout, log)
    print(f"   {outcome.seconds:.0f}s {outcome.error or 'ok'}", flush=True)
    return outcome


# -- the report ------------------------------------------------------------------------------
def write_enqueue(rep: Report, res: dict[str, Outcome], systems: Sequence[System],
                  results: Results, sizes: Sizes) -> None:
    rep.add("## 2. Enqueue rate (jobs/s, one producer process)", "",
            f"One at a time: {sizes.enqueue_single:,} no-op jobs through each system's usual "
            "call (jobglass: `App.enqueue`, the sync API); batched: "
            f"{sizes.enqueue_batched:,} in batches of 1,000 through its bulk API "
            "(jobglass `App.enqueue_specs`, RQ `enqueue_many`, PgQueuer list `enqueue`, "
            "Procrastinate `batch_defer_async`). Ratio = system / jobglass of its ratio "
            "class (higher = faster).", "")
    rows = []
    for s in systems:
        o = res.get(s.name)
        base = _base(results, "enqueue", s)
        if o is None or o.error:
            rows.append([s.label, _na(o), "", "", ""])
            continue
        r = o.result
        one, bat = r.get("single_per_s"), r.get("batched_per_s")
        rows.append([s.label, fmt(one), ratio(one, base and base.get("single_per_s")),
                     fmt(bat) if bat else f"n/a: {r.get('batched_na')}",
                     ratio(bat, base and base.get("batched_per_s")) if bat else ""])
    rep.table(["system", "one at a time", "ratio", "batched", "ratio"], rows)


def write_drain(rep: Report, res: dict[str, Outcome], systems: Sequence[System],
                results: Results, sizes: Sizes) -> None:
    rep.add("## 1. Drain: pre-enqueued no-op jobs, ONE worker process (jobs/s)", "",
            f"{sizes.drain:,} no-ops enqueued first, then one worker process started; the "
            "bench polls the system's own storage every 50 ms for jobs still queued or in "
            "progress. Rate = jobs done between the first poll that saw progress and the "
            "end (start-up excluded); wall includes start-up. Peers get "
            f"{sizes.drain_deadline:.0f} s, jobglass {sizes.drain_deadline_jobglass:.0f} s "
            "(so workload 5 sees all its jobs); a system that runs out of time is rated on "
            "the jobs it did. Ratio = system / jobglass of its ratio class.", "")
    rows = []
    for s in systems:
        o = res.get(s.name)
        if o is None or o.error:
            rows.append([s.label, _na(o), "", "", "", ""])
            continue
        r = o.result
        base = _base(results, "drain", s)
        done = f"{r['done']:,}/{r['n']:,}" + (" (deadline)" if r.get("timed_out") else "")
        rows.append([s.label, fmt(r.get("rate")), ratio(r.get("rate"), base and base.get("rate")),
                     str(r.get("concurrency")), done, fmt(r.get("wall_s"), " s")])
    rep.table(["system", "jobs/s", "ratio", "concurrency", "done", "wall"], rows)


def write_rss(rep: Report, res: dict[str, Outcome], systems: Sequence[System],
              results: Results, sizes: Sizes) -> None:
    rep.add("## 5. Worker RSS over the drain (MiB, VmRSS of the worker process)", "",
            "Sampled from /proc/PID/status at the first poll that saw progress and again "
            "when the drain ended (before the worker is stopped); 'jobs' is how many ran "
            "between the two samples.", "")
    rows = []
    for s in systems:
        o = res.get(s.name)
        if o is None or o.error:
            rows.append([s.label, _na(o), "", "", ""])
            continue
        r = o.result
        before, after = r.get("rss_before_kb"), r.get("rss_after_kb")
        if before is None or after is None:
            rows.append([s.label, "n/a: not sampled", "", "", ""])
            continue
        rows.append([s.label, fmt(before / 1024), fmt(after / 1024),
                     fmt((after - before) / 1024), f"{r.get('rss_jobs', 0):,}"])
    rep.table(["system", "before", "after", "growth", "jobs"], rows)


def write_latency(rep: Report, res: dict[str, Outcome], systems: Sequence[System],
                  results: Results, sizes: Sizes) -> None:
    rep.add("## 3. Idle enqueue-to-start latency (ms)", "",
            f"{sizes.latency:,} jobs, each enqueued 2-12 ms after the previous one started "
            "(so the worker is idle); latency = from just before the enqueue call to the "
            "moment the task's code sends a UDP datagram (time.time() on the same clock). "
            f"{sizes.latency_deadline:.0f} s per system; fewer samples where it ran out. "
            "Ratio = system p50 / jobglass p50 of its class (higher = slower).", "")
    rows = []
    for s in systems:
        o = res.get(s.name)
        if o is None or o.error:
            rows.append([s.label, _na(o), "", "", "", ""])
            continue
        r = o.result
        base = _base(results, "latency", s)
        rows.append([s.label, fmt(r["p50_ms"]), fmt(r["p99_ms"]),
                     ratio(r["p50_ms"], base and base.get("p50_ms")), f"{r['n']:,}",
                     str(r.get("concurrency"))])
    rep.table(["system", "p50", "p99", "ratio p50", "samples", "concurrency"], rows)


def write_sleep(rep: Report, res: dict[str, Outcome], systems: Sequence[System],
                results: Results, sizes: Sizes) -> None:
    rep.add("## 4. Jobs that sleep 10 ms, concurrency 50, one worker process", "",
            f"{sizes.sleep:,} jobs (ideal: {sizes.sleep * 0.01 / 50:.1f} s at 50 at a time); "
            "async sleep where the system runs async tasks, time.sleep on threads "
            "elsewhere. Ratio = system / jobglass jobs/s of its class.", "")
    rows = []
    for s in systems:
        o = res.get(s.name)
        if o is None or o.error:
            rows.append([s.label, _na(o), "", "", ""])
            continue
        r = o.result
        if "na" in r:
            rows.append([s.label, f"n/a: {r['na']}", "", "", ""])
            continue
        base = _base(results, "sleep", s)
        done = f"{r['done']:,}/{r['n']:,}" + (" (deadline)" if r.get("timed_out") else "")
        rows.append([s.label, fmt(r.get("rate")), ratio(r.get("rate"), base and base.get("rate")),
                     str(r.get("concurrency")), done])
    rep.table(["system", "jobs/s", "ratio", "concurrency", "done"], rows)


def write_scrape(rep: Report, o: Outcome | None, sizes: Sizes) -> None:
    rep.add(f"## 6. /metrics scrape and health check at {sizes.scrape_finished:,} finished "
            "jobs (+10,000 queued), ms", "",
            "jobglass only: `Metrics.render` (store gauges + exposition) and "
            "`observe.health.assess` (ping + `health_sample` + verdict: what `jobglass "
            f"health` and GET /api/health compute), {sizes.scrape_rounds} rounds each. Peers: "
            "n/a (none ships a /metrics endpoint or a health verdict in the library itself; "
            "Flower, celery-exporter, rq-dashboard, pgqueuer dashboards are separate "
            "services).", "")
    if o is None or o.error:
        rep.add(_na(o), "")
        return
    rows = []
    for key, label in (("sqlite", "sqlite, all finished in the last 5 min"),
                       ("sqlite_spread", "sqlite, finished over 30 days"),
                       ("postgres", "postgres, all finished in the last 5 min"),
                       ("postgres_spread", "postgres, finished over 30 days")):
        r = o.result.get(key)
        if r is None:
            continue
        if "error" in r:
            rows.append([label, f"n/a: {r['error']}", "", "", "", "", ""])
            continue
        rows.append([label, fmt(r["scrape"]["p50_ms"]), fmt(r["scrape"]["p99_ms"]),
                     fmt(r["health"]["p50_ms"]), fmt(r["health"]["p99_ms"]),
                     fmt(r["health_sample"]["p50_ms"]), r.get("status", "?")])
    rep.table(["store, finished_at", "scrape p50", "scrape p99", "health p50", "health p99",
               "health_sample p50", "verdict"], rows)
    rep.add("'last 5 min': bench_observability's fill, every finished job at the same "
            "finished_at, so the health check's 300 s throughput window holds all of them "
            "(the worst case); 'over 30 days': the same rows' finished_at spread evenly "
            "over 30 days (~115 in the window). The verdict differs with the data (failure "
            "rate, no progress), not with the timing.", "")


def write_obs(rep: Report, o: Outcome | None, sizes: Sizes) -> None:
    rep.add("## 7. Full-observability overhead (in-process no-op drain, concurrency 100)", "",
            f"bench/bench_observability.py's drain: {sizes.obs_n:,} no-ops, median of "
            f"{sizes.obs_rounds}; 'all on' = JSON logs to a file, metrics, stored job logs, "
            "every job traced to an in-memory exporter. Peers: n/a (no equivalent built in).",
            "")
    if o is None or o.error:
        rep.add(_na(o), "")
        return
    rates = o.result["rates"]
    rows = []
    for key, value in rates.items():
        store, mode = key.split("/", 1)
        base = rates.get(f"{store}/off")
        rows.append([store, mode, fmt(value), fmt(value / base * 100 if base else None, " %")])
    rep.table(["store", "observers", "jobs/s", "kept"], rows)


TARGETS = "targets"


def write_targets(rep: Report, results: Results, other: dict[str, Outcome]) -> None:
    def get(workload: str, system: str, key: str) -> float | None:
        o = results.get(workload, {}).get(system)
        return o.result.get(key) if o and not o.error else None

    rows: list[list[str]] = []

    def check(name: str, measured: str, ok: bool | None) -> None:
        rows.append([name, measured, "n/a" if ok is None else ("yes" if ok else "**no**")])

    jg, pgq = get("drain", "jobglass_pg", "rate"), get("drain", "pgqueuer_pg", "rate")
    check("PostgreSQL drain >= 2x PgQueuer",
          f"{fmt(jg)} / {fmt(pgq)} = {ratio(jg, pgq)}x",
          None if not (jg and pgq) else jg >= 2 * pgq)
    js, hu = get("drain", "jobglass_sqlite", "rate"), get("drain", "huey_sqlite", "rate")
    check("SQLite drain >= 3x Huey (both synchronous=FULL)",
          f"{fmt(js)} / {fmt(hu)} = {ratio(js, hu)}x",
          None if not (js and hu) else js >= 3 * hu)
    jn = get("drain", "jobglass_sqlite_normal", "rate")
    if jn and hu:
        check("(for reference) SQLite NORMAL drain vs Huey", f"{fmt(jn)} / {fmt(hu)} = "
              f"{ratio(jn, hu)}x", jn >= 3 * hu)
    p50 = get("latency", "jobglass_pg", "p50_ms")
    check("Idle enqueue-to-start p50 <= 5 ms on PostgreSQL", fmt(p50, " ms"),
          None if p50 is None else p50 <= 5)
    sc = other.get("scrape")
    for store in ("sqlite", "postgres"):
        for key, when in ((store, "all finished in the last 5 min"),
                          (f"{store}_spread", "finished over 30 days")):
            r = sc.result.get(key, {}) if sc and not sc.error else {}
            if key.endswith("_spread") and not r:
                continue
            s50 = r.get("scrape", {}).get("p50_ms")
            h50 = r.get("health", {}).get("p50_ms")
            check(f"Scrape <= 50 ms ({store}, {when})", fmt(s50, " ms"),
                  None if s50 is None else s50 <= 50)
            check(f"Health <= 50 ms ({store}, {when})", fmt(h50, " ms"),
                  None if h50 is None else h50 <= 50)
    ob = other.get("obs")
    rates = ob.result.get("rates", {}) if ob and not ob.error else {}
    for store in ("sqlite", "postgres"):
        on, off = rates.get(f"{store}/all on"), rates.get(f"{store}/off")
        kept = on / off * 100 if on and off else None
        check(f"Full observability keeps >= 85% ({store})", fmt(kept, " %"),
              None if kept is None else kept >= 85)
    for name in ("jobglass_sqlite", "jobglass_pg"):
        before, after = get("drain", name, "rss_before_kb"), get("drain", name, "rss_after_kb")
        jobs = get("drain", name, "rss_jobs")
        grow = (after - before) / 1024 if before is not None and after is not None else None
        check(f"Worker RSS grows < 20 MB over 100,000 jobs ({BY_NAME[name].label})",
              f"{fmt(grow, ' MiB')} over {int(jobs or 0):,} jobs",
              None if grow is None else grow < 20 * 1e6 / 2**20)
    rep.add("## Targets (issue #7)", "")
    rep.table(["target", "measured", "met"], rows)


def write_notes(rep: Report, systems: Sequence[System]) -> None:
    rep.add("## Notes: durability and acknowledgement, per system", "")
    rep.table(["system", "storage / durability", "acknowledgement"],
              [[s.label, s.durability, s.ack] for s in systems])
    rep.add("Ratio classes: PostgreSQL peers against jobglass PostgreSQL; Huey (SQLite) and "
            "the Redis peers against jobglass SQLite (synchronous=FULL). Redis here keeps "
            "nothing on disk, so the Redis peers do strictly less durable work than either "
            "jobglass store.", "",
            "Each figure comes from its own process (`python -m bench.peers.driver SYSTEM "
            "WORKLOAD`), run under bench/.peers-venv for the peers and the project's venv for "
            "jobglass, one system after another on this 2-core machine. Other work on the "
            "machine skews every figure: see the load averages above.", "")


WRITERS: dict[str, Callable[..., None]] = {
    "drain": write_drain, "enqueue": write_enqueue, "latency": write_latency,
    "sleep": write_sleep,
}
PEER_WORKLOADS = ("drain", "enqueue", "latency", "sleep")
OWN_WORKLOADS = ("scrape", "obs")
ALL = (*PEER_WORKLOADS, *OWN_WORKLOADS)


def _versions() -> str:
    try:
        out = subprocess.run([str(PEERS_PY), "-m", "pip", "freeze"], capture_output=True,
                             text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    wanted = ("celery", "rq", "dramatiq", "arq", "saq", "huey", "pgqueuer", "procrastinate",
              "redis", "kombu", "asyncpg", "psycopg")
    return ", ".join(x for x in out.split() if x.split("==")[0].lower() in wanted)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def _server_facts() -> str:
    facts = []
    try:
        import psycopg

        from bench.peers.base import PG_URL

        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SELECT current_setting('server_version'),"
                               " current_setting('fsync'),"
                               " current_setting('synchronous_commit')").fetchone()
        assert row is not None
        facts.append(f"PostgreSQL {row[0]} (fsync={row[1]}, synchronous_commit={row[2]})")
    except Exception as exc:  # the report says so; the run goes on
        facts.append(f"PostgreSQL: {exc}")
    try:
        out = subprocess.run([str(PEERS_PY), "-c",
                              "from bench.peers.redis_util import client; r = client();"
                              "i = r.info('server'); c = r.config_get('appendonly');"
                              "s = r.config_get('save');"
                              "print(i['redis_version'], c['appendonly'], repr(s['save']))"],
                             cwd=ROOT, capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, PYTHONPATH=str(ROOT)))
        version, aof, save = out.stdout.split(maxsplit=2)
        facts.append(f"Redis {version} (appendonly={aof}, save={save.strip()})")
    except Exception as exc:
        facts.append(f"Redis: {exc}")
    return "; ".join(facts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a few minutes")
    parser.add_argument("--only", default=",".join(ALL),
                        help=f"comma-separated workloads: {', '.join(ALL)}")
    parser.add_argument("--peers", default=",".join(s.name for s in SYSTEMS),
                        help="comma-separated systems (adapter names); default all")
    parser.add_argument("--out", type=Path, help="report file (default bench/results/DATE.md)")
    args = parser.parse_args(argv)
    only = [w.strip() for w in args.only.split(",") if w.strip()]
    names = [n.strip() for n in args.peers.split(",") if n.strip()]
    bad = [w for w in only if w not in ALL] + [n for n in names if n not in BY_NAME]
    if bad:
        parser.error(f"unknown workload or system: {', '.join(bad)}")
    systems = [s for s in SYSTEMS if s.name in names]
    sizes = Sizes.pick(args.quick)
    if any(not s.jobglass for s in systems) and any(w in PEER_WORKLOADS for w in only):
        ensure_peers_venv()

    today = dt.date.today().isoformat()
    RESULTS.mkdir(exist_ok=True)
    out = args.out or RESULTS / f"{today}{'-quick' if args.quick else ''}.md"
    log = RESULTS / f"{out.stem}.log.tmp"
    log.write_text("")
    started = time.monotonic()
    load_start = _load()
    results: Results = {}
    other: dict[str, Outcome] = {}
    for workload in only:
        if workload in PEER_WORKLOADS:
            results[workload] = measure(workload, systems, sizes, log)
        elif any(s.jobglass for s in systems):
            other[workload] = measure_jobglass_only(workload, sizes, log)

    import jobglass

    command = "python -m bench" + (" --quick" if args.quick else "")
    if args.only != ",".join(ALL):
        command += f" --only {args.only}"
    if args.peers != ",".join(s.name for s in SYSTEMS):
        command += f" --peers {args.peers}"
    rep = Report()
    rep.add(f"# jobglass and its peers{' (quick)' if args.quick else ''}: {today}", "",
            f"`{command}`"
            f" on {os.cpu_count()} CPUs, {platform.python_implementation()} "
            f"{platform.python_version()}, {platform.platform()}; jobglass "
            f"{jobglass.__version__}; load average {load_start} at start, {_load()} at the "
            f"end; {time.monotonic() - started:.0f} s in all.", "",
            f"Peers (bench/requirements-peers.txt): {_versions()}.", "",
            f"Servers: {_server_facts()}.", "")
    write_targets(rep, results, other)
    for workload in only:
        if workload in WRITERS:
            WRITERS[workload](rep, results[workload], systems, results, sizes)
            if workload == "drain":
                write_rss(rep, results[workload], systems, results, sizes)
    if "scrape" in other or "scrape" in only:
        write_scrape(rep, other.get("scrape"), sizes)
    if "obs" in other or "obs" in only:
        write_obs(rep, other.get("obs"), sizes)
    write_notes(rep, systems)
    out.write_text(rep.text())
    raw = {"workloads": {w: {n: {"result": o.result, "error": o.error} for n, o in r.items()}
                         for w, r in results.items()},
           "jobglass_only": {w: {"result": o.result, "error": o.error}
                             for w, o in other.items()}}
    out.with_suffix(".json").write_text(json.dumps(raw, indent=1) + "\n")
    print("\n" + rep.text())
    print(f"written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}"
          f" (worker and driver output: {log.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
