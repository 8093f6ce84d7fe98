"""`jobglass serve`, `jobglass health`, `jobglass token create|list|revoke`, and the
HTTP API that `jobglass up` serves beside its worker (registered on `main.cli`)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import socket
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

import typer
import uvicorn
from rich.table import Table

from jobglass.app import App
from jobglass.cli import render
from jobglass.cli.common import (
    DatabaseOption,
    JsonOption,
    console,
    err_console,
    guarded,
    print_json,
    warn,
    with_store,
)
from jobglass.cli.main import cli
from jobglass.cli.telemetry import ConfigOption, LogFormatOption, LogLevelOption, telemetry_config
from jobglass.model import ConfigError
from jobglass.model.access import Scope, hash_token, new_token
from jobglass.observe.config import load_config, threshold_pairs
from jobglass.observe.exporter import MetricsExporter
from jobglass.observe.health import Status, Thresholds, Verdict, assess
from jobglass.observe.redact import Redactor
from jobglass.observe.setup import install
from jobglass.observe.tracing import Tracing
from jobglass.store import database_url, store_from_url
from jobglass.web import WebSettings, check_bind, create_app
from jobglass.web import metrics as web_metrics
from jobglass.web.limits import DEFAULT_MAX_BODY
from jobglass.worker import Worker
from jobglass.worker.loader import load_app

log = logging.getLogger("jobglass.cli")

Side = Callable[[Worker], Coroutine[Any, Any, None]]

HostOption = typer.Option("--host", help="address to serve the HTTP API on")
PortOption = typer.Option("--port", help="port of the HTTP API (0: any free port)")
InsecureOption = typer.Option("--insecure", help="serve a non-loopback address without tokens")
ThresholdOption = typer.Option(
    "--threshold", "-t", help="health threshold KEY=SECONDS, e.g. no_progress_after=60,"
    " oldest_ready.emails=30 (repeatable)")


def parse_thresholds(pairs: list[str] | None, base: Thresholds) -> Thresholds:
    """`--threshold` flags over `base` (the configuration's [health])."""
    found: dict[str, str] = {}
    for pair in pairs or []:
        found.update(threshold_pairs(pair, "--threshold"))
    return base.with_overrides(found)


def web_settings(application: App, host: str, *, insecure: bool, allow_shell: bool,
                 thresholds: Thresholds, redact: list[str] | None = None,
                 max_body: int = DEFAULT_MAX_BODY, close_store: bool = True) -> WebSettings:
    """Decide the auth mode from the bind address and the tokens the store holds."""
    try:
        has_tokens = with_store(application.database_url, lambda s: s.has_tokens())
    except Exception as exc:
        warn(f"cannot read API tokens ({exc}); tokens will be required off loopback")
        has_tokens = True
    mode, warning = check_bind(host, has_tokens, insecure)
    if warning:
        warn(warning)
    if max_body < 1:
        raise ConfigError("--max-body must be at least 1 byte")
    return WebSettings(allow_shell=allow_shell, auth=mode, thresholds=thresholds,
                       redactor=Redactor.from_env(redact or ()), max_body=max_body,
                       close_store=close_store)


def bind(host: str, port: int) -> socket.socket:
    """Bind before serving, so a taken port is one clear error and not a half start."""
    if not 0 <= port <= 65535:
        raise ConfigError("--port must be between 0 and 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    # Listen now: clients that read the announced address before uvicorn starts serving
    # wait in the backlog instead of being refused.
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _announce(sock: socket.socket) -> None:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    console.print(f"jobglass API on http://{shown}:{port} (OpenAPI at /openapi.json,"
                  " dashboard at /)",
                  highlight=False)
    sys.stdout.flush()


class _SharedLoopServer(uvicorn.Server):
    """uvicorn whose signals are handled by its caller (the worker, or `serve`'s loop),
    so a SIGTERM ends in a graceful stop and exit 0, not a re-raised signal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve_beside(application: App, side: Side | None, *, host: str, port: int,
                 insecure: bool, allow_shell: bool, log_level: str = "INFO",
                 exporter: MetricsExporter | None = None, tracing: Tracing | None = None,
                 thresholds: Thresholds | None = None) -> Side:
    """For `jobglass up`: the API in the worker's event loop, beside `side` if any."""
    settings = web_settings(application, host, insecure=insecure, allow_shell=allow_shell,
                            thresholds=thresholds or Thresholds(), close_store=False)
    settings = dataclasses.replace(settings, tracing=tracing)
    if exporter is not None:
        settings = dataclasses.replace(settings,
                                       metrics=web_metrics.endpoint(exporter, application))
    sock = bind(host, port)
    config = uvicorn.Config(create_app(application, settings), lifespan="on", log_config=None,
                            access_log=False, log_level=log_level.lower())
    server = _SharedLoopServer(config)
    _announce(sock)

    async def run_server() -> None:
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            await asyncio.shield(serving)
        except asyncio.CancelledError:
            server.should_exit = True  # finish the requests in flight, then stop
            await serving
            raise
        finally:
            sock.close()

    async def both(worker: Worker) -> None:
        serving = asyncio.create_task(run_server())
        try:
            if side is not None:
                await side(worker)
            await serving
        finally:  # cancelled with the worker: the server stops gracefully, then we return
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)

    return both


@cli.command()
@guarded
def serve(
    host: Annotated[str, HostOption] = "127.0.0.1",
    port: Annotated[int, PortOption] = 8000,
    insecure: Annotated[bool, InsecureOption] = False,
    allow_shell: Annotated[bool, typer.Option(
        "--allow-shell", help="accept shell jobs over HTTP (admin tokens only)")] = False,
    app: Annotated[str, typer.Option("--app", "-a", help="module:app to load tasks from")] = "",
    threshold: Annotated[list[str] | None, ThresholdOption] = None,
    redact: Annotated[list[str] | None, typer.Option(
        "--redact", help="extra argument key to hide (repeatable)")] = None,
    max_body: Annotated[int, typer.Option("--max-body", help="largest request body, bytes")
                        ] = DEFAULT_MAX_BODY,
    log_level: Annotated[str | None, LogLevelOption] = None,
    log_format: Annotated[str | None, LogFormatOption] = None,
    config: Annotated[str | None, ConfigOption] = None,
    database_url_: Annotated[str | None, DatabaseOption] = None,
) -> None:
    """Serve the HTTP API (jobs, queues, workers, health, /metrics) and the dashboard
    (at /; JOBGLASS_TRACE_URL links trace ids out) on uvicorn."""
    cfg = telemetry_config(config, log_level, log_format)
    application = load_app(app) if app else App(database_url_)
    if database_url_:
        application.database_url = database_url_
    # The flags join the configuration, so /api/health and jobglass_jobs_stuck agree.
    cfg.health = parse_thresholds(threshold, cfg.health)
    telemetry = install(application, cfg)
    settings = web_settings(application, host, insecure=insecure, allow_shell=allow_shell,
                            thresholds=cfg.health, redact=redact, max_body=max_body)
    settings = dataclasses.replace(settings, tracing=telemetry.tracing)
    if telemetry.metrics is not None:
        settings = dataclasses.replace(
            settings, metrics=web_metrics.endpoint(telemetry.metrics, application))
    sock = bind(host, port)
    _announce(sock)
    server = _SharedLoopServer(uvicorn.Config(
        create_app(application, settings), lifespan="on", log_config=None, access_log=False,
        log_level=cfg.log_level.lower()))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):  # finish requests in flight, exit 0
            loop.add_signal_handler(sig, server.handle_exit, sig, None)
        await server.serve(sockets=[sock])

    asyncio.run(main())


def _verdict_table(verdict: Verdict) -> Table:
    colour = {Status.OK: "green", Status.DEGRADED: "yellow", Status.FAILING: "red",
              Status.UNKNOWN: "dim"}
    table = Table("check", "status", "observed", "threshold", "message",
                  title=f"health: {verdict.status.value}")
    for c in verdict.checks:
        table.add_row(c.name, f"[{colour[c.status]}]{c.status.value}[/]",
                      "" if c.observed is None else f"{c.observed:g}",
                      "" if c.threshold is None else f"{c.threshold:g}", c.message)
    return table


@cli.command()
@guarded
def health(
    as_json: Annotated[bool, JsonOption] = False,
    threshold: Annotated[list[str] | None, ThresholdOption] = None,
    config: Annotated[str | None, ConfigOption] = None,
    database_url_: Annotated[str | None, DatabaseOption] = None,
) -> None:
    """The health verdict (the same as GET /api/health); exit 1 when failing.
    Thresholds: the configuration's [health], then --threshold."""
    thresholds = parse_thresholds(threshold, load_config(config).health)
    url = database_url(database_url_)
    store = store_from_url(url)

    async def sample() -> Verdict:
        try:
            await store.open()
        except Exception as exc:
            return await assess(None, thresholds, error=str(exc))
        try:
            return await assess(store, thresholds)
        finally:
            await store.close()

    verdict = asyncio.run(sample())
    if as_json:
        sys.stdout.write(json.dumps(verdict.as_dict(), indent=2) + "\n")
    else:
        console.print(_verdict_table(verdict))
    raise typer.Exit(1 if verdict.failing else 0)


token_cli = typer.Typer(help="API tokens: create (shown once), list, revoke.",
                        no_args_is_help=True)
cli.add_typer(token_cli, name="token")


@token_cli.command("create")
@guarded
def token_create(
    name: Annotated[str, typer.Option("--name", help="who or what uses it")],
    scope: Annotated[Scope, typer.Option("--scope", help="read, write or admin")] = Scope.READ,
    as_json: Annotated[bool, JsonOption] = False,
    database_url_: Annotated[str | None, DatabaseOption] = None,
) -> None:
    """Make a token; it is printed once and only its hash is stored."""
    if not name.strip() or len(name) > 100:
        raise ConfigError("--name must have 1 to 100 characters")
    secret = new_token()
    made = with_store(database_url_, lambda s: s.create_token(name, scope, hash_token(secret)))
    if as_json:
        print_json({"name": made.name, "scope": made.scope.value, "token": secret})
        return
    console.print(f"token {made.name!r} ({made.scope.value}):", highlight=False)
    sys.stdout.write(secret + "\n")
    err_console.print("shown once: store it now (send it as `Authorization: Bearer ...`)")


@token_cli.command("list")
@guarded
def token_list(as_json: Annotated[bool, JsonOption] = False,
               database_url_: Annotated[str | None, DatabaseOption] = None) -> None:
    """Every token (never the secret)."""
    found = with_store(database_url_, lambda s: s.list_tokens())
    if as_json:
        print_json(found)
        return
    table = Table("id", "name", "scope", "created", "last used", "revoked")
    for t in found:
        table.add_row(str(t.id), t.name, t.scope.value, render.when(t.created_at),
                      render.when(t.last_used_at), render.when(t.revoked_at))
    console.print(table)


@token_cli.command("revoke")
@guarded
def token_revoke(name: Annotated[str, typer.Argument(help="the token's name")],
                 database_url_: Annotated[str | None, DatabaseOption] = None) -> None:
    """Revoke a token at once."""
    if not with_store(database_url_, lambda s: s.revoke_token(name)):
        raise ConfigError(f"no active token named {name!r}")
    console.print(f"revoked {name!r}", highlight=False)
