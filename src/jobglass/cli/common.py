"""What every command shares: the error boundary, the store, JSON output."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from jobglass.model import ConfigError, JobglassError
from jobglass.store import Store, database_url, store_from_url

T = TypeVar("T")
# Piped into less, grep or a file, tables get room for whole task names and errors
# (rich would squeeze them into 80 columns); $COLUMNS still wins.
PIPED_WIDTH = 200
console = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ
                  else PIPED_WIDTH)
err_console = Console(stderr=True)


def warn(message: str) -> None:
    """One line on stderr: the message as text (a `[health]` in it is not markup),
    never broken over lines however narrow the terminal or pipe."""
    err_console.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False,
                      soft_wrap=True)

DatabaseOption = typer.Option("--database-url", "-d", envvar="JOBGLASS_DATABASE_URL",
                              help="sqlite:///file.db or postgresql://... (default sqlite:///jobglass.db)")
JsonOption = typer.Option("--json", help="Print JSON for scripts.")


def fail(message: str, code: int = 2) -> typer.Exit:
    # As `warn`: text, not markup, on one line (scripts grep it; "one clear line").
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def guarded(fn: Callable[..., T]) -> Callable[..., T]:
    """Bad input and known failures end as one clear line and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except (JobglassError, ValueError, TypeError, OSError) as exc:
            raise fail(str(exc)) from None

    return wrapper


def with_store(url: str | None, work: Callable[[Store], Awaitable[T]]) -> T:
    # One-shot commands say "cannot reach PostgreSQL" once; the pool's own retry
    # warnings would only repeat it.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

    async def main() -> T:
        store = store_from_url(database_url(url))
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(main())


def to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(to_plain(k)): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_plain(value), indent=2, default=str) + "\n")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"not a duration: {text!r} (use e.g. 30s, 15m, 2h, 7d)")
    return float(match.group(1)) * _UNIT[match.group(2)]
