"""X-Request-ID: kept when sane, replaced when not, made when absent; echoed on every
response (errors too), bound into every log line of the request, stored on every job
the request creates, and searchable."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from apiclient import serve_app

from jobglass.web.requestid import choose, sane


def request_ids(records: list[logging.LogRecord]) -> dict[str, set[Any]]:
    """event -> the request ids its log lines carried (however structlog is set up)."""
    found: dict[str, set[Any]] = {}
    for record in records:
        fields = record.msg if isinstance(record.msg, dict) else record.__dict__
        event = fields.get("event", record.getMessage())
        found.setdefault(str(event), set()).add(fields.get("request_id"))
    return found


async def test_a_request_id_goes_onto_the_job_into_logs_and_back(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="jobglass.web")
    async with serve_app(tmp_path) as api:
        made = await api.client.post("/api/jobs", json={"task": "t"},
                                     headers={"X-Request-ID": "checkout-42.a:b"})
        assert made.headers["x-request-id"] == "checkout-42.a:b"
        assert made.json()["request_id"] == "checkout-42.a:b"
        batch = await api.client.post("/api/jobs/batch", json={"jobs": [{"task": "u"}] * 2},
                                      headers={"X-Request-ID": "checkout-42.a:b"})
        assert {j["request_id"] for j in batch.json()["jobs"]} == {"checkout-42.a:b"}
        await api.client.post("/api/jobs", json={"task": "other"})

        found = await api.client.get("/api/jobs", params={"request_id": "checkout-42.a:b"})
        assert sorted(j["task"] for j in found.json()["jobs"]) == ["t", "u", "u"]

    logged = request_ids(caplog.records)
    assert logged["job enqueued"] >= {"checkout-42.a:b"}
    assert "checkout-42.a:b" in logged["request"]  # the access line of the same request
    assert None not in logged["request"]


@pytest.mark.parametrize("incoming", ["", "a" * 129, "has space", "semi;colon", "ünïcode",
                                      "new\\nline", "<script>"])
async def test_insane_ids_are_replaced(tmp_path: Path, incoming: str) -> None:
    async with serve_app(tmp_path) as api:
        made = await api.client.post("/api/jobs", json={"task": "t"},
                                     headers={"X-Request-ID": incoming.encode()})
        rid = made.headers["x-request-id"]
        assert rid != incoming
        assert sane(rid)
        assert made.json()["request_id"] == rid


async def test_every_response_carries_one_even_errors(tmp_path: Path) -> None:
    async with serve_app(tmp_path) as api:
        plain = await api.client.get("/healthz")
        missing = await api.client.get("/api/jobs/77", headers={"X-Request-ID": "trace-1"})
        bad = await api.client.post("/api/jobs", content=b"{")
        assert sane(plain.headers["x-request-id"])
        assert missing.headers["x-request-id"] == "trace-1"
        assert missing.json()["request_id"] == "trace-1"
        assert bad.json()["request_id"] == bad.headers["x-request-id"]
        assert plain.headers["x-request-id"] != bad.headers["x-request-id"]


def test_choose() -> None:
    assert choose("abc-DEF_1.2:3") == "abc-DEF_1.2:3"
    assert choose("a" * 128) == "a" * 128
    assert len(choose(None)) == 32
    assert choose(None) != choose(None)
    assert choose("a" * 129) != "a" * 129
