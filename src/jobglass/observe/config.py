"""One configuration for telemetry: `jobglass.toml` (or $JOBGLASS_CONFIG), then
JOBGLASS_* environment variables on top. It decides which events are logged at
which level, which labels metrics carry, which task events become metrics, and
whether tracing is on — the signal-to-telemetry idea: telemetry is configured,
not coded.

```toml
[logging]
format = "json"             # or "console"; default: console on a terminal
level = "INFO"
[logging.events]            # event -> level, e.g. quieter or louder lifecycle lines
JobStarted = "DEBUG"

[metrics]
task_labels = "on"          # "off", or a list of task names to keep (others: "other")
exemplars = true

[[metrics.task_events]]     # ctx.emit("prices.scraped", count=120) -> a metric
event = "prices.scraped"
metric = "prices_scraped"
type = "counter"            # counter | gauge | histogram
value = "count"             # the field holding the value (counter: adds it; default 1)

[tracing]
enabled = false             # OTEL_* variables configure the exporter
consumer = "child"          # or "link": see docs/observability.md

[job_logs]
enabled = true
max_bytes = 1048576         # per attempt; then one truncation marker

[health]                    # the verdict's thresholds (observe/health.py), seconds
no_progress_after = 120     # for GET /api/health, `jobglass health`, the dashboard and
stale_heartbeat = 15        # the jobglass_jobs_stuck gauge of every /metrics endpoint
[health.oldest_ready_per_queue]
emails = 30
```

JOBGLASS_HEALTH="no_progress_after=60,oldest_ready.emails=30" overrides the file's
`[health]`; `--threshold` on `jobglass serve` and `jobglass health` overrides both.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobglass.model import ConfigError
from jobglass.observe.health import Thresholds

LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING,
          "ERROR": logging.ERROR, "CRITICAL": logging.CRITICAL}
METRIC_TYPES = ("counter", "gauge", "histogram")


@dataclass(frozen=True, slots=True)
class TaskEventMetric:
    event: str
    metric: str
    type: str = "counter"
    value: str | None = None


@dataclass(slots=True)
class TelemetryConfig:
    log_format: str | None = None
    log_level: str = "INFO"
    event_levels: dict[str, int] = field(default_factory=dict)
    task_labels: str | list[str] = "on"
    exemplars: bool = True
    task_event_metrics: list[TaskEventMetric] = field(default_factory=list)
    tracing: bool = False
    tracing_consumer: str = "child"
    job_logs: bool = True
    job_log_max_bytes: int = 1024 * 1024
    health: Thresholds = field(default_factory=Thresholds)


def _level(name: str, where: str) -> int:
    try:
        return LEVELS[name.upper()]
    except KeyError:
        raise ConfigError(f"{where}: unknown log level {name!r}") from None


def _bool(text: str, where: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "on", "yes"):
        return True
    if lowered in ("0", "false", "off", "no"):
        return False
    raise ConfigError(f"{where}: expected on/off, got {text!r}")


def _thresholds(base: Thresholds, pairs: dict[str, str], where: str) -> Thresholds:
    try:
        return base.with_overrides(pairs)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def threshold_pairs(text: str, where: str) -> dict[str, str]:
    """`"no_progress_after=60,oldest_ready.emails=30"` -> {"no_progress_after": "60", ...}."""
    pairs: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{where}: want KEY=SECONDS, not {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def _health_pairs(table: dict[str, Any], where: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for key, value in table.items():
        if key == "oldest_ready_per_queue":
            if not isinstance(value, dict):
                raise ConfigError(f"{where} [health] oldest_ready_per_queue: want a table")
            pairs.update({f"oldest_ready.{queue}": str(v) for queue, v in value.items()})
        else:
            pairs[key] = str(value)
    return pairs


def _apply_file(cfg: TelemetryConfig, data: dict[str, Any], where: str) -> None:
    logs = data.get("logging", {})
    cfg.log_format = logs.get("format", cfg.log_format)
    cfg.log_level = logs.get("level", cfg.log_level)
    for event, level in logs.get("events", {}).items():
        cfg.event_levels[event] = _level(str(level), f"{where} [logging.events] {event}")
    metrics = data.get("metrics", {})
    cfg.task_labels = metrics.get("task_labels", cfg.task_labels)
    cfg.exemplars = bool(metrics.get("exemplars", cfg.exemplars))
    for entry in metrics.get("task_events", []):
        try:
            mapping = TaskEventMetric(**entry)
        except TypeError as exc:
            raise ConfigError(f"{where} [[metrics.task_events]]: {exc}") from None
        if mapping.type not in METRIC_TYPES:
            raise ConfigError(f"{where}: metric type must be one of {METRIC_TYPES}")
        if mapping.type != "counter" and not mapping.value:
            raise ConfigError(f"{where}: a {mapping.type} needs `value` (the field to read)")
        cfg.task_event_metrics.append(mapping)
    tracing = data.get("tracing", {})
    cfg.tracing = bool(tracing.get("enabled", cfg.tracing))
    cfg.tracing_consumer = tracing.get("consumer", cfg.tracing_consumer)
    job_logs = data.get("job_logs", {})
    cfg.job_logs = bool(job_logs.get("enabled", cfg.job_logs))
    cfg.job_log_max_bytes = int(job_logs.get("max_bytes", cfg.job_log_max_bytes))
    cfg.health = _thresholds(cfg.health, _health_pairs(data.get("health", {}), where),
                             f"{where} [health]")


def _apply_env(cfg: TelemetryConfig, env: dict[str, str]) -> None:
    if "JOBGLASS_LOG_FORMAT" in env:
        cfg.log_format = env["JOBGLASS_LOG_FORMAT"]
    if "JOBGLASS_LOG_LEVEL" in env:
        cfg.log_level = env["JOBGLASS_LOG_LEVEL"]
    if "JOBGLASS_METRICS_TASK_LABELS" in env:
        raw = env["JOBGLASS_METRICS_TASK_LABELS"].strip()
        cfg.task_labels = raw if raw in ("on", "off") else [t for t in raw.split(",") if t]
    if "JOBGLASS_TRACING" in env:
        cfg.tracing = _bool(env["JOBGLASS_TRACING"], "JOBGLASS_TRACING")
    if "JOBGLASS_TRACING_CONSUMER" in env:
        cfg.tracing_consumer = env["JOBGLASS_TRACING_CONSUMER"]
    if "JOBGLASS_JOB_LOGS" in env:
        cfg.job_logs = _bool(env["JOBGLASS_JOB_LOGS"], "JOBGLASS_JOB_LOGS")
    if "JOBGLASS_JOB_LOG_MAX_BYTES" in env:
        cfg.job_log_max_bytes = int(env["JOBGLASS_JOB_LOG_MAX_BYTES"])
    if "JOBGLASS_HEALTH" in env:
        cfg.health = _thresholds(
            cfg.health, threshold_pairs(env["JOBGLASS_HEALTH"], "JOBGLASS_HEALTH"),
            "JOBGLASS_HEALTH")


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None
                ) -> TelemetryConfig:
    environ = dict(os.environ if env is None else env)
    cfg = TelemetryConfig()
    chosen = Path(path) if path else Path(environ.get("JOBGLASS_CONFIG", "jobglass.toml"))
    if chosen.exists():
        try:
            data = tomllib.loads(chosen.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{chosen}: {exc}") from None
        _apply_file(cfg, data, str(chosen))
    elif path:
        raise ConfigError(f"config file {chosen} does not exist")
    _apply_env(cfg, environ)
    if cfg.tracing_consumer not in ("child", "link"):
        raise ConfigError("tracing consumer must be 'child' or 'link'")
    if cfg.log_format not in (None, "json", "console"):
        raise ConfigError("log format must be json or console")
    _level(cfg.log_level, "log level")
    return cfg
