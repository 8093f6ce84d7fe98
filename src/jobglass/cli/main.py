"""The `jobglass` command line."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Annotated, Any

import typer

from jobglass.app import App, EnqueueOptions
from jobglass.cli import render
from jobglass.cli.common import (
    DatabaseOption,
    JsonOption,
    console,
    err_console,
    guarded,
    parse_duration,
    print_json,
    with_store,
)
from jobglass.cli.run import run_worker, supervise
from jobglass.cli.telemetry import (
    ConfigOption,
    LogFormatOption,
    LogLevelOption,
    telemetry_config,
)
from jobglass.model import DEFAULT_LEASE, ConfigError, JobState
from jobglass.model.states import TERMINAL
from jobglass.observe.setup import install
from jobglass.store import JobFilter, Store, database_url
from jobglass.worker import WorkerSettings
from jobglass.worker.loader import load_app

cli = typer.Typer(name="jobglass", help="Durable background jobs that explain themselves.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)


def _settings(queues: str, concurrency: int, allow_shell: bool, heartbeat: float, lease: float,
              shutdown_timeout: float, grace: float, recycle: bool = False,
              prune_after: str = "14d") -> WorkerSettings:
    keep = parse_duration(prune_after)
    return WorkerSettings(
        queues=tuple(q.strip() for q in queues.split(",") if q.strip()),
        concurrency=concurrency, allow_shell=allow_shell, heartbeat=heartbeat, lease=lease,
        shutdown_timeout=shutdown_timeout, grace=grace, recycle_on_hung=recycle,
        prune_after=keep or None)


PruneOption = typer.Option("--prune-after",
                           help="delete finished jobs older than this (e.g. 14d; 0 keeps all)")


@cli.command()
@guarded
def worker(
    app: Annotated[str, typer.Option("--app", "-a", help="module:app to load tasks from")] = "",
    queues: Annotated[str, typer.Option("--queues", "-q", help="comma-separated; all if empty")
                      ] = "",
    concurrency: Annotated[int, typer.Option("--concurrency", "-c")] = 10,
    processes: Annotated[int, typer.Option("--processes", "-p", help="supervised processes")] = 1,
    allow_shell: Annotated[bool, typer.Option("--allow-shell", help="run shell jobs")] = False,
    heartbeat: Annotated[float, typer.Option(help="seconds between heartbeats")] = 1.0,
    lease: Annotated[float, typer.Option(help="silent this long = dead (s)")] = DEFAULT_LEASE,
    shutdown_timeout: Annotated[float, typer.Option(help="drain time on SIGTERM (s)")] = 30.0,
    grace: Annotated[float, typer.Option(help="sync task's time to honour a cancel (s)")] = 5.0,
    log_level: Annotated[str | None, LogLevelOption] = None,
    log_format: Annotated[str | None, LogFormatOption] = None,
    config: Annotated[str | None, ConfigOption] = None,
    metrics_port: Annotated[int | None, typer.Option(help="serve /metrics on this port")] = None,
    metrics_host: Annotated[str, typer.Option(help="address for /metrics")] = "127.0.0.1",
    prune_after: Annotated[str, PruneOption] = "14d",
    database_url_: Annotated[str | None, DatabaseOption] = None,
    child: Annotated[bool, typer.Option("--child", hidden=True)] = False,
) -> None:
    """Run workers that claim and execute jobs."""
    cfg = telemetry_config(config, log_level, log_format)
    if processes < 1:
        raise ConfigError("--processes must be at least 1")
    application = load_app(app) if app else App(database_url_)
    if database_url_:
        application.database_url = database_url_
    if processes > 1:
        raise typer.Exit(supervise(application, cfg, sys.argv[1:], processes,
                                   (metrics_host, metrics_port) if metrics_port else None,
                                   lease))
    telemetry = install(application, cfg, lease=lease)
    settings = _settings(queues, concurrency, allow_shell, heartbeat, lease, shutdown_timeout,
                         grace, recycle=child, prune_after=prune_after)
    addr = (metrics_host, metrics_port) if metrics_port and not child else None
    raise typer.Exit(run_worker(application, settings, telemetry=telemetry, metrics_addr=addr))


@cli.command()
@guarded
def up(
    app: Annotated[str, typer.Option("--app", "-a", help="module:app to load tasks from")] = "",
    demo: Annotated[bool, typer.Option("--demo", help="enqueue a steady mix of demo jobs")] = False,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c")] = 10,
    allow_shell: Annotated[bool, typer.Option(
        "--allow-shell/--no-shell", help="the worker runs shell jobs (from the CLI, Python)")
    ] = True,
    api_shell: Annotated[bool, typer.Option(
        "--api-shell", help="also accept shell jobs over HTTP (admin tokens only)")] = False,
    log_level: Annotated[str | None, LogLevelOption] = None,
    log_format: Annotated[str | None, LogFormatOption] = None,
    config: Annotated[str | None, ConfigOption] = None,
    host: Annotated[str, typer.Option("--host", help="address of the HTTP API")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port of the HTTP API")] = 8000,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="serve a non-loopback address without tokens")] = False,
    database_url_: Annotated[str | None, DatabaseOption] = None,
) -> None:
    """Everything in one process on embedded SQLite: workers, maintenance, HTTP API."""
    cfg = telemetry_config(config, log_level, log_format)
    if demo and app:
        raise ConfigError("give --app or --demo, not both")
    if demo:
        from jobglass.demo import app as demo_app
        from jobglass.demo import produce

        application = demo_app
        side = produce
    else:
        application = load_app(app) if app else App(database_url_)
        side = None
    if database_url_:
        application.database_url = database_url_
    telemetry = install(application, cfg)
    console.print(f"jobglass up: database {application.database_url}; "
                  f"{len(application.tasks)} tasks; Ctrl-C stops", highlight=False)
    settings = _settings("", concurrency, allow_shell, 1.0, 30.0, 10.0, 5.0)
    from jobglass.cli.web_cmds import serve_beside

    with_api = serve_beside(application, side, host=host, port=port, insecure=insecure,
                            allow_shell=api_shell and allow_shell, log_level=cfg.log_level,
                            exporter=telemetry.metrics, tracing=telemetry.tracing,
                            thresholds=cfg.health)
    raise typer.Exit(run_worker(application, settings, with_api, telemetry=telemetry))


def _parse_args(raw: str) -> tuple[list[Any], dict[str, Any]]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--args is not valid JSON: {exc}") from None
    if isinstance(value, dict):
        return [], value
    if isinstance(value, list):
        return value, {}
    raise ConfigError("--args must be a JSON object (keyword arguments) or array (positional)")


def _options(queue: str | None, priority: int | None, delay: str | None,
             depends_on: list[int] | None, unique_key: str | None) -> EnqueueOptions:
    return EnqueueOptions(queue=queue, priority=priority,
                          delay=parse_duration(delay) if delay else None,
                          depends_on=tuple(depends_on or ()), unique_key=unique_key)


QueueOpt = typer.Option("--queue", help="queue (default: the task's)")
PriorityOpt = typer.Option("--priority", help="higher runs first")
DelayOpt = typer.Option("--delay", help="run after e.g. 30s, 5m")
DependsOpt = typer.Option("--depends-on", help="job id that must succeed first (repeatable)")
UniqueOpt = typer.Option("--unique-key", help="at most one active job per key")


@cli.command()
@guarded
def enqueue(
    task: Annotated[str, typer.Argument(help="task name, e.g. myapp.tasks.send_email")],
    args: Annotated[str, typer.Option("--args", help="JSON object or array")] = "{}",
    queue: Annotated[str | None, QueueOpt] = None,
    priority: Annotated[int | None, PriorityOpt] = None,
    delay: Annotated[str | None, DelayOpt] = None,
    depends_on: Annotated[list[int] | None, DependsOpt] = None,
    unique_key: Annotated[str | None, UniqueOpt] = None,
    as_json: Annotated[bool, JsonOption] = False,
    database_url_: Annotated[str | None, DatabaseOption] = None,
) -> None:
    """Enqueue a job by task name (the worker must know the task)."""
    positional, keywords = _parse_args(args)
    app = App(database_url_)
    spec = app.spec_for(task, positional, keywords,
                        _options(queue, priority, delay, depends_on, unique_key))
    job = with_store(database_url_, lambda s: s.enqueue_many([spec]))[0]
    print_json(job) if as_json else console.print(f"enqueued job {job.id} ({job.state})")


@cli.command()
@guarded
def submit(
    command: Annotated[list[str], typer.Argument(help="the command, after --")],
    queue: Annotated[str | None, QueueOpt] = None,
    priority: Annotated[int | None, PriorityOpt] = None,
    delay: Annotated[str | None, DelayOpt] = None,
    depends_on: Annotated[list[int] | None, DependsOpt] = None,
    unique_key: Annotated[str | None, UniqueOpt] = None,
    timeout: Annotated[float | None, typer.Option(help="seconds")] = None,
    retries: Annotated[int, typer.Option()] = 0,
    as_json: Annotated[bool, JsonOption] = False,
    database_url_: Annotated[str | None, DatabaseOption] = None,
) -> None:
    """Submit a shell job: `jobglass submit -- echo hello` (needs a worker with --allow-shell)."""
    app = App(database_url_)
    spec = app.shell_spec(" ".join(command),
                          _options(queue, priority, delay, depends_on, unique_key),
                          timeout, retries)
    job = with_store(database_url_, lambda s: s.enqueue_many([spec]))[0]
    print_json(job) if as_json else console.print(f"submitted job {job.id} ({job.state})")


@cli.command()
@guarded
def jobs(
    state: Annotated[list[str] | None, typer.Option("--state", "-s")] = None,
    queue: Annotated[str | None, typer.Option("--queue")] = None,
    task: Annotated[str | None, typer.Option("--task")] = None,
    request_id: Annotated[str | None, typer.Option("--request-id")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 50,
    before: Annotated[int | None, typer.Option("--before", help="page cursor (job id)")] = None,
    as_json: Annotated[bool, JsonOption] = False,
    database_url_: Annotated[str | None, DatabaseOption] = None,
) -> None:
    """List jobs, newest first."""
    try:
        states = [JobState(s) for s in state or []]
    except ValueError:
        raise ConfigError(f"--state must be one of {', '.join(s.value for s in JobState)}"
                          ) from None
    if limit < 1 or limit > 1000:
        raise ConfigError("--limit must be between 1 and 1000")
    flt = JobFilter(states=states, queue=queue, task=task, request_id=request_id)
    page = with_store(database_url_, lambda s: s.list_jobs(flt, limit=limit, before_id=before))
    if as_json:
        print_json(page)
        return
    console.print(render.jobs_table(page.jobs))
    if page.next_cursor:
        console.print(f"more: --before {page.next_cursor}")


@cli.command()
@guarded
def show(job_id: int, as_json: Annotated[bool, JsonOption] = False,
         database_url_: Annotated[str | None, DatabaseOption] = None) -> None:
    """A job with every attempt."""

    async def read(store: Store) -> tuple[Any, Any]:
        return await store.get(job_id), await store.attempts(job_id)

    job, attempts = with_store(database_url_, read)
    if as_json:
        print_json({"job": job, "attempts": attempts})
        return
    console.print(render.job_table(job))
    console.print(render.attempts_table(attempts))


@cli.command()
@guarded
def logs(job_id: int,
         attempt: Annotated[int | None, typer.Option("--attempt", help="one attempt only")] = None,
         follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")
                           ] = False,
         as_json: Annotated[bool, JsonOption] = False,
         database_url_: Annotated[str | None, DatabaseOption] = None) -> None:
    """The stored log of a job's attempts: ctx.log lines, print output, logging records."""

    async def show_lines(store: Store) -> None:
        await store.get(job_id)  # JobNotFound for a wrong id
        after = 0
        shown = 0
        while True:
            lines = await store.read_logs(job_id, attempt=attempt, after_id=after)
            for line in lines:
                if as_json:
                    print_json(line)
                else:
                    console.print(render.log_line(line), highlight=False, soft_wrap=True)
            if lines:
                shown += len(lines)
                after = lines[-1].id or after
                continue
            if not follow or (await store.get(job_id)).state in TERMINAL:
                break
            await asyncio.sleep(0.25)
        if not shown and not as_json:  # say so, rather than print nothing
            which = f" attempt {attempt}" if attempt is not None else ""
            err_console.print(f"no log lines stored for job {job_id}{which}", highlight=False)

    with_store(database_url_, show_lines)


@cli.command()
@guarded
def cancel(job_id: int, reason: Annotated[str, typer.Option()] = "cancelled from the CLI",
           as_json: Annotated[bool, JsonOption] = False,
           database_url_: Annotated[str | None, DatabaseOption] = None) -> None:
    """Cancel a job (a running one is signalled and ends cancelled)."""
    job = with_store(database_url_, lambda s: s.cancel(job_id, reason))
    if as_json:
        print_json(job)
    elif job.state is JobState.RUNNING:
        console.print(f"job {job_id} is running: cancel requested")
    else:
        console.print(f"job {job_id} {job.state}")


@cli.command()
@guarded
def retry(job_id: int, as_json: Annotated[bool, JsonOption] = False,
          database_url_: Annotated[str | None, DatabaseOption] = None) -> None:
    """Run a failed or cancelled job again, as a new attempt."""
    job = with_store(database_url_, lambda s: s.retry(job_id))
    print_json(job) if as_json else console.print(f"job {job_id} {job.state}")


@cli.command()
@guarded
def workers(as_json: Annotated[bool, JsonOption] = False,
            database_url_: Annotated[str | None, DatabaseOption] = None) -> None:
    """Workers, alive and dead."""
    found = with_store(database_url_, lambda s: s.workers())
    print_json(found) if as_json else console.print(render.workers_table(found))


@cli.command()
@guarded
def queues(as_json: Annotated[bool, JsonOption] = False,
           database_url_: Annotated[str | None, DatabaseOption] = None) -> None:
    """Active jobs per queue and state, and the oldest ready job's wait."""
    found = with_store(database_url_, lambda s: s.queue_stats())
    print_json(found) if as_json else console.print(render.queues_table(found))


@cli.command()
@guarded
def migrate(database_url_: Annotated[str | None, DatabaseOption] = None) -> None:
    """Create or upgrade the schema."""
    from jobglass.store import store_from_url

    async def work() -> tuple[list[int], int]:
        store = store_from_url(database_url(database_url_) + _no_auto_migrate(database_url_))
        await store.open()
        try:
            return await store.migrate(), await store.schema_version()
        finally:
            await store.close()

    import asyncio

    applied, version = asyncio.run(work())
    console.print(f"applied {applied or 'nothing'}; schema version {version}")


def _no_auto_migrate(url: str | None) -> str:
    return ("&" if "?" in database_url(url) else "?") + "migrate=false"


@cli.command()
@guarded
def prune(older_than: Annotated[str, typer.Option("--older-than", help="e.g. 7d, 12h")],
          as_json: Annotated[bool, JsonOption] = False,
          database_url_: Annotated[str | None, DatabaseOption] = None) -> None:
    """Delete finished jobs (and their attempts) older than the given age."""
    cutoff = time.time() - parse_duration(older_than)
    count = with_store(database_url_, lambda s: s.prune(cutoff))
    print_json({"deleted": count}) if as_json else console.print(f"deleted {count} jobs")


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        raise SystemExit(130) from None


from jobglass.cli import web_cmds  # noqa: E402, F401  (registers serve, health, token)
