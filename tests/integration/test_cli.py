"""The CLI: commands round-trip through a real SQLite file; bad input gets one clear
line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobglass.store.migrations import latest_version


def jobglass(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOBGLASS_DATABASE_URL": f"sqlite:///{tmp_path}/j.db"}
    return subprocess.run([sys.executable, "-m", "jobglass", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_enqueue_show_cancel_retry_round_trip(tmp_path: Path) -> None:
    made = jobglass(tmp_path, "enqueue", "mail.send", "--args", '{"to": "ada@example.com"}',
                    "--queue", "emails", "--json")
    assert made.returncode == 0, made.stderr
    job = json.loads(made.stdout)
    assert job["state"] == "queued"
    assert job["kwargs"] == {"to": "ada@example.com"}

    shown = json.loads(jobglass(tmp_path, "show", str(job["id"]), "--json").stdout)
    assert shown["job"]["queue"] == "emails"
    assert shown["attempts"] == []

    cancelled = json.loads(jobglass(tmp_path, "cancel", str(job["id"]), "--json").stdout)
    assert cancelled["state"] == "cancelled"
    retried = json.loads(jobglass(tmp_path, "retry", str(job["id"]), "--json").stdout)
    assert retried["state"] == "queued"

    listed = json.loads(jobglass(tmp_path, "jobs", "--state", "queued", "--json").stdout)
    assert [j["id"] for j in listed["jobs"]] == [job["id"]]


def test_submit_makes_a_shell_job(tmp_path: Path) -> None:
    made = jobglass(tmp_path, "submit", "--json", "--", "echo", "hi")
    assert made.returncode == 0, made.stderr
    job = json.loads(made.stdout)
    assert job["kind"] == "shell"
    assert job["command"] == "echo hi"


@pytest.mark.parametrize(("args", "message"), [
    (("enqueue", "t", "--args", "{not json"), "not valid JSON"),
    (("enqueue", "t", "--args", '"text"'), "JSON object"),
    (("enqueue", "t", "--depends-on", "999"), "do not exist"),
    (("show", "12345"), "no job with id 12345"),
    (("cancel", "12345"), "no job with id 12345"),
    (("prune", "--older-than", "soon"), "not a duration"),
    (("jobs", "--state", "sleeping"), "--state must be one of"),
    (("worker", "--app", "no_such_module:app"), "cannot import"),
])
def test_bad_input_is_one_clear_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = jobglass(tmp_path, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_logs_of_a_job_that_logged_nothing_say_so(tmp_path: Path) -> None:
    job = json.loads(jobglass(tmp_path, "enqueue", "t", "--json").stdout)
    shown = jobglass(tmp_path, "logs", str(job["id"]))
    assert shown.returncode == 0
    assert shown.stdout == ""
    assert f"no log lines stored for job {job['id']}" in shown.stderr
    one = jobglass(tmp_path, "logs", str(job["id"]), "--attempt", "2")
    assert f"no log lines stored for job {job['id']} attempt 2" in one.stderr


def test_a_bad_collector_setting_stops_the_worker_with_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBGLASS_GC_YOUNG", "lots")
    for processes in ("1", "2"):  # the supervisor refuses it before starting children
        result = jobglass(tmp_path, "worker", "--processes", processes)
        assert result.returncode != 0
        assert "JOBGLASS_GC_YOUNG must be a whole number of allocations" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout


def test_illegal_transition_is_reported(tmp_path: Path) -> None:
    job = json.loads(jobglass(tmp_path, "enqueue", "t", "--json").stdout)
    jobglass(tmp_path, "cancel", str(job["id"]))
    again = jobglass(tmp_path, "cancel", str(job["id"]))
    assert again.returncode != 0
    assert "cannot go from cancelled to cancelled" in again.stderr


def test_prune_deletes_only_old_finished_jobs(tmp_path: Path) -> None:
    job = json.loads(jobglass(tmp_path, "enqueue", "t", "--json").stdout)
    jobglass(tmp_path, "cancel", str(job["id"]))
    kept = json.loads(jobglass(tmp_path, "prune", "--older-than", "1h", "--json").stdout)
    assert kept == {"deleted": 0}
    gone = json.loads(jobglass(tmp_path, "prune", "--older-than", "0s", "--json").stdout)
    assert gone == {"deleted": 1}


def test_migrate_reports_the_version(tmp_path: Path) -> None:
    result = jobglass(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert f"schema version {latest_version('jobglass.store.sqlite')}" in result.stdout


def test_piped_tables_keep_whole_task_names(tmp_path: Path) -> None:
    """Piped into grep or a file, a table is not squeezed into 80 columns: the task
    name a reader greps for comes out whole."""
    task = "billing.invoices.render_monthly_statement_pdf"
    made = jobglass(tmp_path, "enqueue", task, "--args", '{"customer": "acme"}')
    assert made.returncode == 0, made.stderr
    env_without_columns = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    listed = subprocess.run([sys.executable, "-m", "jobglass", "jobs"],
                            env={**env_without_columns,
                                 "JOBGLASS_DATABASE_URL": f"sqlite:///{tmp_path}/j.db"},
                            capture_output=True, text=True, timeout=60, check=False)
    assert listed.returncode == 0, listed.stderr
    assert task in listed.stdout


def test_health_thresholds_come_from_the_config_then_the_flags(tmp_path: Path) -> None:
    config = tmp_path / "jobglass.toml"
    config.write_text("[health]\nno_progress_after = 42\noldest_ready = 77\n", "utf-8")
    env = {**os.environ, "JOBGLASS_DATABASE_URL": f"sqlite:///{tmp_path}/j.db",
           "JOBGLASS_HEALTH": "oldest_ready=66"}

    def thresholds(*args: str) -> dict[str, float]:
        done = subprocess.run([sys.executable, "-m", "jobglass", "health", "--json", *args],
                              env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return {c["name"]: c["threshold"] for c in json.loads(done.stdout)["checks"]}

    got = thresholds("--config", str(config))
    assert (got["no_progress"], got["oldest_ready"]) == (42, 66)  # the environment wins
    got = thresholds("--config", str(config), "-t", "no_progress_after=5")
    assert got["no_progress"] == 5  # and a flag wins over both
    bad = jobglass(tmp_path, "health", "--config", str(tmp_path / "missing.toml"))
    assert bad.returncode != 0
    assert "does not exist" in bad.stderr
    config.write_text("[health]\nno_progres_after = 42\n", "utf-8")
    typo = jobglass(tmp_path, "health", "--config", str(config))
    assert typo.returncode != 0
    # One line, the section named as written (not eaten as markup), however long.
    assert typo.stderr.count("\n") == 1, typo.stderr
    assert f"{config} [health]: unknown health threshold 'no_progres_after'" in typo.stderr
