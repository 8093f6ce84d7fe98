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
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.report import (
    WRITERS,
    Report,
    fmt,
    write_notes,
    write_obs,
    write_rss,
    write_scrape,
    write_targets,
)
from bench.systems import BY_NAME, SYSTEMS, Outcome, Results, Sizes, System

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PEERS_VENV = BENCH / ".peers-venv"
PEERS_PY = PEERS_VENV / "bin" / "python"
REQUIREMENTS = BENCH / "requirements-peers.txt"
RESULTS = BENCH / "results"



# -- running one measurement ---------------------------------------------------------
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


# -- workloads ---------------------------------------------------------------------------
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
        settle_disk()
        outcome = run_driver(system, workload, args, timeout, log)
        print(f"   {outcome.seconds:.0f}s {outcome.error or _brief(outcome.result)}", flush=True)
        out[system.name] = outcome
    return out


def settle_disk() -> None:
    """Flush what the previous system left to write (the page cache, PostgreSQL's dirty
    buffers), so its background writes do not slow the next system's fsyncs: a
    PostgreSQL drain's checkpoint once halved Huey's rate in the run after it."""
    os.sync()
    with contextlib.suppress(Exception):  # no server: nothing of it to flush
        import psycopg

        from bench.peers.base import PG_URL

        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute("CHECKPOINT")
    os.sync()


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
