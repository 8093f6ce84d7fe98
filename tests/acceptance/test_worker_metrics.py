"""`--processes P` workers: the metrics endpoint serves the sum over all children."""

from __future__ import annotations

import signal
import socket
import urllib.request

import accapp
from procs import WaitFor, Workers, running_children, wait_exit
from prometheus_client.parser import text_string_to_metric_families

from jobglass.store import Store

JOBS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name + "".join(f"|{k}={v}" for k, v in sorted(sample.labels.items())
                                        if k not in ("pid",))
            totals[key] = totals.get(key, 0.0) + sample.value
    return totals


async def test_supervisor_metrics_are_the_sum_over_children(
        workers: Workers, store: Store, wait_for: WaitFor) -> None:
    await store.enqueue_many([accapp.app.spec_for("acc.sleep", [0.02]) for i in range(JOBS)])
    port = free_port()
    supervisor = workers.start("--processes", "2", "--concurrency", "5",
                               "--metrics-port", str(port))

    def finished() -> float:
        try:
            return scrape(port).get(
                "jobglass_jobs_finished_total|outcome=succeeded|queue=default|task=acc.sleep",
                0.0)
        except OSError:
            return -1.0

    await wait_for(lambda: finished() == JOBS, 60, interval=0.1,
                   message=f"{JOBS} finished jobs summed over both children")
    children = running_children(supervisor.pid)
    workers.children.update(children)
    assert len(children) == 2
    ran = {line.split()[0] for line in workers.trace_lines() if line.endswith("end")}
    assert len(ran) == JOBS
    per_child = {int(w.pid): w.jobs_done for w in await store.workers()}
    assert all(done > 0 for done in per_child.values()), per_child  # both did some work
    gauges = scrape(port)
    assert gauges["jobglass_store_up"] == 1
    assert gauges["jobglass_workers|state=alive"] == 2
    supervisor.send_signal(signal.SIGTERM)
    assert await wait_exit(supervisor) == 0
