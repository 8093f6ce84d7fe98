"""The markdown report of `python -m bench`: one section per workload, the targets
table and the notes on durability."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from bench.systems import BY_NAME, Outcome, Results, Sizes, System


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


def _na(outcome: Outcome | None) -> str:
    if outcome is None:
        return "not run"
    return f"n/a: {outcome.error}"


def _base(results: Results, workload: str, system: System, key: str) -> float | None:
    """`key` of the system's ratio baseline in `workload`, when it ran."""
    base = results.get(workload, {}).get(system.baseline)
    return None if base is None or base.error else base.result.get(key)


Cells = Callable[[System, dict[str, Any]], "list[str] | str"]


def _system_table(rep: Report, header: list[str], res: dict[str, Outcome],
                  systems: Sequence[System], cells: Cells) -> None:
    """A row per system from `cells(system, result)`; a system that did not run, or
    whose `cells` gives a reason (a str) instead, gets that reason and blanks."""
    rows = []
    for s in systems:
        o = res.get(s.name)
        row = _na(o) if o is None or o.error else cells(s, o.result)
        rows.append([s.label, row, *[""] * (len(header) - 2)] if isinstance(row, str)
                    else [s.label, *row])
    rep.table(header, rows)


def _done(r: dict[str, Any]) -> str:
    return f"{r['done']:,}/{r['n']:,}" + (" (deadline)" if r.get("timed_out") else "")


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

    def cells(s: System, r: dict[str, Any]) -> list[str]:
        one, bat = r.get("single_per_s"), r.get("batched_per_s")
        return [fmt(one), ratio(one, _base(results, "enqueue", s, "single_per_s")),
                fmt(bat) if bat else f"n/a: {r.get('batched_na')}",
                ratio(bat, _base(results, "enqueue", s, "batched_per_s")) if bat else ""]

    _system_table(rep, ["system", "one at a time", "ratio", "batched", "ratio"], res, systems,
                  cells)


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

    def cells(s: System, r: dict[str, Any]) -> list[str]:
        return [fmt(r.get("rate")), ratio(r.get("rate"), _base(results, "drain", s, "rate")),
                str(r.get("concurrency")), _done(r), fmt(r.get("wall_s"), " s")]

    _system_table(rep, ["system", "jobs/s", "ratio", "concurrency", "done", "wall"], res,
                  systems, cells)


def write_rss(rep: Report, res: dict[str, Outcome], systems: Sequence[System],
              results: Results, sizes: Sizes) -> None:
    rep.add("## 5. Worker RSS over the drain (MiB, VmRSS of the worker process)", "",
            "Sampled from /proc/PID/status at the first poll that saw progress and again "
            "when the drain ended (before the worker is stopped); 'jobs' is how many ran "
            "between the two samples.", "")

    def cells(s: System, r: dict[str, Any]) -> list[str] | str:
        before, after = r.get("rss_before_kb"), r.get("rss_after_kb")
        if before is None or after is None:
            return "n/a: not sampled"
        return [fmt(before / 1024), fmt(after / 1024), fmt((after - before) / 1024),
                f"{r.get('rss_jobs', 0):,}"]

    _system_table(rep, ["system", "before", "after", "growth", "jobs"], res, systems, cells)


def write_latency(rep: Report, res: dict[str, Outcome], systems: Sequence[System],
                  results: Results, sizes: Sizes) -> None:
    rep.add("## 3. Idle enqueue-to-start latency (ms)", "",
            f"{sizes.latency:,} jobs, each enqueued 2-12 ms after the previous one started "
            "(so the worker is idle); latency = from just before the enqueue call to the "
            "moment the task's code sends a UDP datagram (time.time() on the same clock). "
            f"{sizes.latency_deadline:.0f} s per system; fewer samples where it ran out. "
            "Ratio = system p50 / jobglass p50 of its class (higher = slower).", "")

    def cells(s: System, r: dict[str, Any]) -> list[str]:
        return [fmt(r["p50_ms"]), fmt(r["p99_ms"]),
                ratio(r["p50_ms"], _base(results, "latency", s, "p50_ms")), f"{r['n']:,}",
                str(r.get("concurrency"))]

    _system_table(rep, ["system", "p50", "p99", "ratio p50", "samples", "concurrency"], res,
                  systems, cells)


def write_sleep(rep: Report, res: dict[str, Outcome], systems: Sequence[System],
                results: Results, sizes: Sizes) -> None:
    rep.add("## 4. Jobs that sleep 10 ms, concurrency 50, one worker process", "",
            f"{sizes.sleep:,} jobs (ideal: {sizes.sleep * 0.01 / 50:.1f} s at 50 at a time); "
            "async sleep where the system runs async tasks, time.sleep on threads "
            "elsewhere. Ratio = system / jobglass jobs/s of its class.", "")

    def cells(s: System, r: dict[str, Any]) -> list[str] | str:
        if "na" in r:
            return f"n/a: {r['na']}"
        return [fmt(r.get("rate")), ratio(r.get("rate"), _base(results, "sleep", s, "rate")),
                str(r.get("concurrency")), _done(r)]

    _system_table(rep, ["system", "jobs/s", "ratio", "concurrency", "done"], res, systems, cells)


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
            "every job traced to an in-memory exporter. 'sqlite, 1 ms jobs': the same two "
            "modes on a seventh as many jobs that each compute for 1 ms. Each drain runs "
            "in a fresh interpreter, with the garbage collector set up as `jobglass "
            "worker` sets it (jobglass/cli/collector.py). Peers: n/a (no equivalent built "
            "in).",
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
    for store, note in o.result.get("ceilings", {}).items():
        rep.add(f"Ceiling ({store}): {note}", "")


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
    for store in ("sqlite", "postgres", "sqlite, 1 ms jobs"):
        on, off = rates.get(f"{store}/all on"), rates.get(f"{store}/off")
        kept = on / off * 100 if on and off else None
        label = ("(for reference) " if "ms jobs" in store else "") + (
            f"Full observability keeps >= 85% ({store})")
        check(label, fmt(kept, " %"), None if kept is None else kept >= 85)
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
            "jobglass, one system after another on this 2-core machine; before each one the "
            "page cache is synced and PostgreSQL checkpointed, so no system pays for the "
            "previous one's writes. Other work on the machine skews every figure: see the "
            "load averages above.", "")


WRITERS: dict[str, Callable[..., None]] = {
    "drain": write_drain, "enqueue": write_enqueue, "latency": write_latency,
    "sleep": write_sleep,
}
