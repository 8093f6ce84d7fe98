"""Health thresholds in the one configuration: `[health]` in jobglass.toml, then
$JOBGLASS_HEALTH, each a clear error when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobglass.model import ConfigError
from jobglass.observe.config import load_config
from jobglass.observe.health import Thresholds


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jobglass.toml"
    path.write_text(text, "utf-8")
    return path


def test_health_thresholds_come_from_the_file_then_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "[health]\nno_progress_after = 60\nstale_heartbeat = 45\n"
                           "failure_min_jobs = 4\n[health.oldest_ready_per_queue]\nemails = 30\n")
    cfg = load_config(path, env={})
    t = cfg.health
    assert (t.no_progress_after, t.stale_heartbeat, t.failure_min_jobs) == (60, 45, 4)
    assert (t.limit_for("emails"), t.limit_for("other")) == (30, Thresholds().oldest_ready)
    over = load_config(path, env={"JOBGLASS_HEALTH": "stale_heartbeat=5, oldest_ready.sms=9"})
    assert (over.health.stale_heartbeat, over.health.no_progress_after) == (5, 60)
    assert (over.health.limit_for("emails"), over.health.limit_for("sms")) == (30, 9)


def test_no_health_table_keeps_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "[metrics]\nexemplars = false\n"), env={}).health \
        == Thresholds()


@pytest.mark.parametrize(("text", "env", "message"), [
    ("[health]\nno_progres_after = 60\n", {}, "[health]: unknown health threshold"),
    ("[health]\nwindow = \"soon\"\n", {}, "window must be a number"),
    ("[health]\noldest_ready_per_queue = 5\n", {}, "want a table"),
    ("", {"JOBGLASS_HEALTH": "stale_heartbeat"}, "JOBGLASS_HEALTH: want KEY=SECONDS"),
    ("", {"JOBGLASS_HEALTH": "window=-1"}, "JOBGLASS_HEALTH: health threshold window"),
])
def test_bad_health_settings_say_where(tmp_path: Path, text: str, env: dict[str, str],
                                       message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text), env=env)
    assert message in str(raised.value)
