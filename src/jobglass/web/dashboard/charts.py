"""The last hour, minute by minute, from the stored per-minute figures: finished and
failed attempts, and queue-wait percentiles. The same series go to the page twice: as
JSON for the chart library, and as an SVG drawn here, so a page without JavaScript
still shows its charts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jobglass.model.stats import WAIT_BOUNDS, MinuteStats, wait_percentile

MINUTES = 60
WIDTH, HEIGHT, PAD = 600.0, 120.0, 4.0


@dataclass(slots=True)
class Line:
    label: str
    css: str  # class of the SVG polyline and the legend swatch
    values: list[float | None]
    points: str = ""  # SVG polyline points, filled by `draw`


@dataclass(slots=True)
class Chart:
    key: str
    title: str
    unit: str  # "/min" or "s"
    minutes: list[int]  # Unix minute of each point
    lines: list[Line]
    peak: float = 0.0
    total: dict[str, float] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(v for line in self.lines for v in line.values)

    def data(self) -> dict[str, Any]:
        """What the chart library draws: x in Unix seconds, one array per line."""
        return {"key": self.key, "unit": self.unit, "x": [m * 60 for m in self.minutes],
                "series": [{"label": ln.label, "css": ln.css, "values": ln.values}
                           for ln in self.lines]}

    def rows(self) -> list[tuple[int, list[float | None]]]:
        """Minutes with anything in them, newest first: the table under the chart."""
        found = []
        for index in range(len(self.minutes) - 1, -1, -1):
            values = [ln.values[index] for ln in self.lines]
            if any(values):
                found.append((self.minutes[index] * 60, values))
        return found


def _merged(rows: Sequence[MinuteStats], minutes: list[int]) -> dict[int, MinuteStats]:
    by_minute = {m: MinuteStats(minute=m, queue="*") for m in minutes}
    for row in rows:
        if row.minute in by_minute:
            by_minute[row.minute].merge(row)
    return by_minute


def draw(chart: Chart) -> Chart:
    peak = max((v for ln in chart.lines for v in ln.values if v is not None), default=0.0)
    chart.peak = peak
    scale = (HEIGHT - 2 * PAD) / peak if peak > 0 else 0.0
    step = WIDTH / max(1, len(chart.minutes) - 1)
    for line in chart.lines:
        points = []
        for index, value in enumerate(line.values):
            if value is None:
                continue
            points.append(f"{index * step:.1f},{HEIGHT - PAD - value * scale:.1f}")
        line.points = " ".join(points)
    return chart


def last_hour(rows: Sequence[MinuteStats], now: float) -> list[Chart]:
    """Two charts (throughput and queue wait) over the 60 minutes up to `now`."""
    end = int(now // 60)
    minutes = list(range(end - MINUTES + 1, end + 1))
    merged = _merged(rows, minutes)
    ordered = [merged[m] for m in minutes]
    done = Chart("throughput", "Finished per minute", "/min", minutes, [
        Line("succeeded", "ok", [float(m.succeeded) for m in ordered]),
        Line("failed", "bad", [float(m.failed) for m in ordered]),
        Line("retried", "warn", [float(m.retried) for m in ordered]),
    ])
    done.total = {"succeeded": sum(m.succeeded for m in ordered),
                  "failed": sum(m.failed for m in ordered),
                  "retried": sum(m.retried for m in ordered)}
    wait = Chart("wait", "Queue wait (s)", "s", minutes, [
        Line("p50", "p50", [wait_percentile(m.wait, 0.50) for m in ordered]),
        Line("p95", "p95", [wait_percentile(m.wait, 0.95) for m in ordered]),
        Line("p99", "p99", [wait_percentile(m.wait, 0.99) for m in ordered]),
    ])
    hour = [sum(col) for col in zip(*(m.wait for m in ordered), strict=True)] if ordered else []
    wait.total = {name: wait_percentile(hour, q) or 0.0
                  for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))}
    return [draw(done), draw(wait)]


__all__ = ["HEIGHT", "MINUTES", "WAIT_BOUNDS", "WIDTH", "Chart", "Line", "last_hour"]
