"""Running workers: in this process, or supervised child processes."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tempfile
from collections.abc import Callable, Coroutine
from typing import Any

from jobglass.app import App
from jobglass.cli.collector import tune_collector, young_threshold
from jobglass.observe.config import TelemetryConfig
from jobglass.observe.exporter import MULTIPROC_ENV, MetricsExporter
from jobglass.observe.logs import configure_logging
from jobglass.observe.setup import Telemetry
from jobglass.worker import Worker, WorkerSettings
from jobglass.worker.supervisor import Supervisor

log = logging.getLogger("jobglass.cli")


def run_worker(app: App, settings: WorkerSettings,
               extra: Callable[[Worker], Coroutine[Any, Any, None]] | None = None,
               telemetry: Telemetry | None = None, metrics_addr: tuple[str, int] | None = None
               ) -> int:
    """Run one worker until SIGTERM/SIGINT; return its exit code."""
    young = young_threshold()  # a bad setting fails here, before any work

    async def main() -> int:
        worker = Worker(app, settings, scope=telemetry.job_scope if telemetry else None)
        tune_collector(young)
        if telemetry is not None and telemetry.metrics is not None and metrics_addr:
            serve_metrics(app, telemetry.metrics, metrics_addr)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.request_stop)
        side = asyncio.create_task(extra(worker)) if extra else None
        try:
            return await worker.run()
        finally:
            if side is not None:
                side.cancel()
                await asyncio.gather(side, return_exceptions=True)
            await app.aclose()

    return asyncio.run(main())


def serve_metrics(app: App, exporter: MetricsExporter, addr: tuple[str, int]) -> None:
    """/metrics on its own port, for processes without the HTTP API. The store gauges
    are sampled at scrape time through the app's portal loop."""

    def refresh() -> None:
        async def sample() -> None:
            await exporter.gauges.refresh(await app.astore())

        app.portal.call(sample())

    exporter.serve_in_thread(addr[1], addr[0], refresh)
    log.info("metrics on http://%s:%d/metrics", addr[0], addr[1])


def without_options(argv: list[str], *names: str) -> list[str]:
    """argv less the named options and their values (`--x v` or `--x=v`)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in names:
            skip = True
        elif not any(arg.startswith(f"{n}=") for n in names if n.startswith("--")):
            out.append(arg)
    return out


def supervise(app: App, cfg: TelemetryConfig, argv: list[str], processes: int,
              metrics_addr: tuple[str, int] | None, lease: float) -> int:
    """P worker processes under a supervisor; their metrics summed on one endpoint."""
    young_threshold()  # each child reads it: refuse a bad one before starting any
    configure_logging(cfg.log_format, cfg.log_level)
    child_args = [*without_options(argv, "--processes", "-p", "--metrics-port"), "--child"]
    with tempfile.TemporaryDirectory(prefix="jobglass-metrics-") as metrics_dir:
        env = dict(os.environ)
        if metrics_addr is not None:
            env[MULTIPROC_ENV] = metrics_dir
            os.environ[MULTIPROC_ENV] = metrics_dir
            exporter = MetricsExporter(lease=lease, aggregate_children=True,
                                       thresholds=cfg.health)
            serve_metrics(app, exporter, metrics_addr)
        return Supervisor(child_args, processes, env=env).run()
