"""Telemetry options shared by the long-running commands."""

from __future__ import annotations

import typer

from jobglass.observe.config import TelemetryConfig, load_config

LogLevelOption = typer.Option("--log-level", help="DEBUG, INFO, WARNING, ERROR")
LogFormatOption = typer.Option("--log-format", help="json or console (default: console on a TTY)")
ConfigOption = typer.Option("--config", help="telemetry config file (default ./jobglass.toml)")


def telemetry_config(path: str | None, level: str | None, fmt: str | None) -> TelemetryConfig:
    cfg = load_config(path)
    if level:
        cfg.log_level = level.upper()
    if fmt:
        if fmt not in ("json", "console"):
            raise ValueError("--log-format must be json or console")
        cfg.log_format = fmt
    return cfg
