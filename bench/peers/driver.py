"""Run one workload against one system and print its figures as one JSON line.

    <venv>/bin/python -m bench.peers.driver ADAPTER WORKLOAD [--n N] [--n2 N] [--deadline S]

Workloads: enqueue (n one at a time, n2 batched), drain (n pre-enqueued no-ops,
one worker process; RSS sampled when the first jobs are done and at the end),
latency (n jobs, each enqueued 2-12 ms after the previous one started), sleep
(n pre-enqueued 10 ms jobs, concurrency 50). Stdlib only apart from the adapter.
The last line printed is `RESULT {...}`; every wait has a deadline and the worker
is always stopped.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Any

from bench.peers.base import ROOT, Base, rss_kb

POLL = 0.05  # how often pending() is asked (one query; cheap next to the worker)


class Worker:
    """One worker process of the system under test; stop() always ends it."""

    def __init__(self, adapter: Base, kind: str, concurrency: int) -> None:
        self.adapter = adapter
        self.argv = adapter.worker_argv(kind, concurrency)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def start(self) -> float:
        env = dict(os.environ, PYTHONPATH=str(ROOT), **self.adapter.worker_env())
        self.started = time.time()
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        return self.started

    def pid(self) -> int:
        assert self.proc is not None
        return self.adapter.worker_pid(self.proc)

    def check(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"worker exited with {self.proc.returncode}: {self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-1500:]

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(8)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        finally:
            self.log.close()


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low, high = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def enqueue(a: Base, n_single: int, n_batch: int, deadline: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    a.open()
    try:
        for _ in range(10):  # connections, scripts and statements warmed outside the timing
            a.enqueue_one("noop")
        t0 = time.perf_counter()
        end = time.monotonic() + deadline
        done = 0
        while done < n_single and time.monotonic() < end:
            a.enqueue_one("noop")
            done += 1
        out["single_per_s"] = done / (time.perf_counter() - t0)
        out["single_n"] = done
        if a.batch_na is None:
            a.enqueue_batch("noop", 10)
            t0 = time.perf_counter()
            done = 0
            while done < n_batch and time.monotonic() < end + deadline:
                a.enqueue_batch("noop", min(a.batch_size, n_batch - done))
                done += min(a.batch_size, n_batch - done)
            out["batched_per_s"] = done / (time.perf_counter() - t0)
            out["batched_n"] = done
            out["batch_size"] = a.batch_size
        else:
            out["batched_na"] = a.batch_na
    finally:
        a.close()
    return out


def _run_down(a: Base, kind: str, n: int, concurrency: int, deadline: float,
              sample_rss: bool) -> dict[str, Any]:
    """Prefill n jobs of `kind`, start one worker, wait (bounded) until none is pending."""
    a.open()
    try:
        t0 = time.perf_counter()
        a.prefill(kind, n)
        prefill_s = time.perf_counter() - t0
        got = a.pending()
        if got != n:
            raise RuntimeError(f"prefilled {n} jobs but {got} are pending")
        worker = Worker(a, kind, concurrency)
        rss_before = rss_after = None
        first_t = first_left = None
        try:
            started = worker.start()
            end = time.monotonic() + deadline
            left = n
            while True:
                time.sleep(POLL)
                worker.check()
                left = a.pending()
                now = time.time()
                if first_t is None and left < n:
                    first_t, first_left = now, left  # the worker is up and running jobs
                    if sample_rss:
                        rss_before = rss_kb(worker.pid())
                if left == 0 or time.monotonic() > end:
                    break
            finished = now
            if sample_rss:
                rss_after = rss_kb(worker.pid())
        finally:
            worker.stop()
    finally:
        a.close()
    done = n - left
    out: dict[str, Any] = {
        "n": n, "done": done, "timed_out": left > 0, "prefill_s": prefill_s,
        "wall_s": finished - started, "concurrency": concurrency,
        "startup_s": (first_t - started) if first_t else None,
    }
    if first_t is not None and first_left is not None and finished > first_t:
        # rate once running: jobs done after the first poll that saw progress
        out["rate"] = (first_left - left) / (finished - first_t)
    else:
        out["rate"] = None
    if sample_rss:
        out["rss_before_kb"] = rss_before
        out["rss_after_kb"] = rss_after
        out["rss_jobs"] = (first_left - left) if first_left is not None else 0
    return out


def drain(a: Base, n: int, deadline: float) -> dict[str, Any]:
    return _run_down(a, "noop", n, a.drain_concurrency, deadline, sample_rss=True)


def sleep(a: Base, n: int, deadline: float) -> dict[str, Any]:
    if a.sleep_na:
        return {"na": a.sleep_na}
    out = _run_down(a, "sleep", n, a.sleep_concurrency, deadline, sample_rss=False)
    out["ideal_s"] = n * 0.010 / a.sleep_concurrency
    return out


def latency(a: Base, n: int, deadline: float, warmup: int = 10) -> dict[str, Any]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    a.open()
    worker = Worker(a, "mark", a.latency_concurrency)
    samples: list[float] = []
    try:
        worker.start()
        # the first job also waits for the worker to start: up to 60 s
        sock.settimeout(60)
        a.enqueue_one("mark", port)
        sock.recv(64)
        sock.settimeout(10)
        end = time.monotonic() + deadline
        for i in range(warmup + n):
            if time.monotonic() > end:
                break
            time.sleep(random.uniform(0.002, 0.012))  # off any poll's phase
            t0 = time.time()
            a.enqueue_one("mark", port)
            try:
                began = float(sock.recv(64))
            except TimeoutError:
                worker.check()
                raise RuntimeError(f"job {i} did not start within 10 s") from None
            if i >= warmup:
                samples.append(began - t0)
    finally:
        worker.stop()
        a.close()
        sock.close()
    if not samples:
        raise RuntimeError("no samples")
    return {"n": len(samples), "asked": n, "timed_out": len(samples) < n,
            "p50_ms": _percentile(samples, 50) * 1e3, "p90_ms": _percentile(samples, 90) * 1e3,
            "p99_ms": _percentile(samples, 99) * 1e3, "max_ms": max(samples) * 1e3,
            "concurrency": a.latency_concurrency}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("adapter")
    parser.add_argument("workload", choices=["enqueue", "drain", "latency", "sleep"])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--n2", type=int, default=10_000)
    parser.add_argument("--deadline", type=float, default=60.0)
    args = parser.parse_args()
    module = importlib.import_module(f"bench.peers.{args.adapter}")
    adapter: Base = module.Adapter()
    result: dict[str, Any]
    try:
        adapter.setup()
        if args.workload == "enqueue":
            result = enqueue(adapter, args.n, args.n2, args.deadline)
        elif args.workload == "drain":
            result = drain(adapter, args.n, args.deadline)
        elif args.workload == "sleep":
            result = sleep(adapter, args.n, args.deadline)
        else:
            result = latency(adapter, args.n, args.deadline)
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"[:400]}
    finally:
        try:
            adapter.teardown()
        except Exception:
            traceback.print_exc()
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
