"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright,
against a real uvicorn server over a seeded SQLite store.

Playwright's own browser download does not work here, so it launches the system's
`chromium` (scripts/test installs it when missing). Without it these tests are
skipped loudly, and fail under CI=true.

Screenshots of every page go to the test's tmp dir, and to JOBGLASS_SCREENSHOTS_DIR
when set (`scripts/screenshots` sets it to docs/screenshots).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashseed import Seeded, Server, make_token, seed, with_store
from playwright.sync_api import Browser, Page, expect, sync_playwright
from unavailable import unavailable

from jobglass.model import JobState, LogLine
from jobglass.model.access import Scope

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000


def chromium_path() -> str:
    found = shutil.which("chromium") or "/usr/bin/chromium"
    if os.path.exists(found):
        return found
    unavailable("BROWSER TESTS", "Debian's chromium is not installed (apt-get install -y"
                " chromium, or run scripts/test as root)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=path, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, str, Seeded]]:
    url = f"sqlite:///{tmp_path}/dash.db"
    seeded = seed(url)
    with Server(url) as server:
        yield server.base, url, seeded


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def shoot(page: Page, tmp_path: Path, name: str) -> None:
    target = tmp_path / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    wanted = os.environ.get("JOBGLASS_SCREENSHOTS_DIR")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        shutil.copy(target, Path(wanted) / target.name)


def test_the_three_am_walkthrough(page: Page, site: tuple[str, str, Seeded],
                                  tmp_path: Path) -> None:
    base, url, seeded = site
    p = page
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))

    # the overview: a verdict with its reasons, queues, charts drawn by uPlot
    p.goto(base + "/")
    expect(p.locator(".verdict h1")).to_be_visible()
    expect(p.locator(".verdict .chip").first).to_have_text("degraded")
    expect(p.locator(".reasons")).to_contain_text("thumbnails")
    expect(p.locator("#queues")).to_contain_text("emails")
    expect(p.locator("figure.chart.js .uplot")).to_have_count(2)
    shoot(p, tmp_path, "overview")

    # filter to failed jobs, open the failed one
    p.goto(base + "/jobs")
    shoot(p, tmp_path, "jobs")
    p.locator("form.filters input[value=failed]").check()
    p.locator("form.filters button").click()
    expect(p).to_have_url(base + "/jobs?state=failed&queue=&task=&request_id=")
    rows = p.locator("table.jobs tbody tr")
    expect(rows).to_have_count(1)
    p.locator(f"a.jid:text-is('#{seeded.failed}')").click()

    # its attempts: log lines and the traceback; secrets redacted
    expect(p.locator("h1")).to_contain_text(f"#{seeded.failed}")
    expect(p.locator("#attempt-2 .log .ln")).to_have_count(4)
    expect(p.locator("#attempt-2 .log")).to_contain_text(
        "card declined: insufficient_funds")
    expect(p.locator("#attempt-2 pre.traceback")).to_contain_text(
        "GatewayError: card declined")
    expect(p.locator("dd a[href^='http://jaeger.internal']")).to_have_attribute(
        "href", "http://jaeger.internal:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736")
    expect(p.locator("#kwargs")).to_contain_text("[redacted]")
    expect(p.locator("#kwargs")).not_to_contain_text("sk_live")
    shoot(p, tmp_path, "job-failed")

    # cancel a queued job and see its state change
    p.goto(f"{base}/jobs/{seeded.queued}")
    expect(p.locator("h1 .chip")).to_have_text("queued")
    p.locator("button#cancel").click()
    expect(p.locator("h1 .chip")).to_have_text("cancelled")
    expect(p.locator("button#retry")).to_be_visible()
    state = with_store(url, lambda s: s.get(seeded.queued)).state
    assert state is JobState.CANCELLED

    # workers (the dead one with what it held), queues
    p.goto(base + "/workers")
    expect(p.locator("tr.gone")).to_contain_text(seeded.dead_worker)
    shoot(p, tmp_path, "workers")
    p.goto(base + "/queues")
    expect(p.locator("button:text-is('Pause')").first).to_be_visible()
    shoot(p, tmp_path, "queues")
    assert errors == []


def test_a_running_attempts_log_is_tailed_live(page: Page, site: tuple[str, str, Seeded],
                                                tmp_path: Path) -> None:
    base, url, seeded = site
    p = page
    p.goto(f"{base}/jobs/{seeded.running}")
    log = p.locator("#attempt-1 .log .ln")
    expect(log).to_have_count(1)
    import time

    with_store(url, lambda s: s.append_logs([
        LogLine(seeded.running, 1, time.time(), "info", "log", "pass 2 of 3 <done>")]))
    expect(log).to_have_count(2)  # appears without a reload
    expect(log.last).to_contain_text("pass 2 of 3 <done>")
    shoot(p, tmp_path, "job-running")


def test_the_reaped_job_shows_the_reapers_evidence(page: Page,
                                                   site: tuple[str, str, Seeded]) -> None:
    base, _, seeded = site
    p = page
    p.goto(f"{base}/jobs/{seeded.reaped}")
    expect(p.locator("#attempt-1 details.evidence")).to_contain_text(
        seeded.dead_worker)
    expect(p.locator("#attempt-1")).to_contain_text("WorkerLost")


def test_a_forged_post_without_the_csrf_token_is_refused(page: Page,
                                                         site: tuple[str, str, Seeded]) -> None:
    base, url, seeded = site
    p = page
    p.goto(f"{base}/jobs/{seeded.queued}")
    # the page's own session cookie, but a form without (then with a wrong) token
    for body in ("", "csrf=forged"):
        reply = p.request.post(
            f"{base}/jobs/{seeded.queued}/cancel", data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert reply.status == 403
        assert "CSRF" in reply.text()
    assert with_store(url, lambda s: s.get(seeded.queued)).state is JobState.QUEUED


def test_a_read_only_token_sees_no_buttons(page: Page, site: tuple[str, str, Seeded],
                                           tmp_path: Path) -> None:
    base, url, seeded = site
    p = page
    secret = make_token(url, "night-shift", Scope.READ)
    p.goto(f"{base}/jobs/{seeded.queued}")
    expect(p).to_have_url(  # a token exists now: log in first
        f"{base}/login?next=%2Fjobs%2F{seeded.queued}")
    shoot(p, tmp_path, "login")
    p.locator("input[name=token]").fill(secret)
    p.locator("form button.primary").click()
    expect(p).to_have_url(f"{base}/jobs/{seeded.queued}")
    expect(p.locator(".who")).to_contain_text("night-shift")
    expect(p.locator(".who .tag")).to_have_text("read")
    expect(p.locator("main button")).to_have_count(0)
    expect(p.locator("main form[method=post]")).to_have_count(0)
    p.goto(base + "/queues")
    expect(p.locator("main button")).to_have_count(0)
    reply = p.request.post(f"{base}/jobs/{seeded.queued}/cancel",
                           data="csrf=x", headers={
                               "Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 403


def test_pages_read_without_javascript(browser: Browser, site: tuple[str, str, Seeded]
                                       ) -> None:
    base, url, seeded = site
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        p = context.new_page()
        p.goto(base + "/")
        expect(p.locator("figure.chart svg.spark polyline").first).to_be_visible()
        expect(p.locator(".uplot")).to_have_count(0)
        p.locator("figure.chart details.table summary").first.click()
        expect(p.locator("figure.chart details.table table").first).to_be_visible()
        p.goto(f"{base}/jobs?state=failed")
        expect(p.locator("table.jobs tbody tr")).to_have_count(1)
        p.goto(f"{base}/jobs/{seeded.running}")
        expect(p.locator("#attempt-1 .log .ln")).to_have_count(1)
        p.locator("button#cancel").click()  # a plain form post
        expect(p.locator("h1")).to_contain_text("cancel requested")
    finally:
        context.close()
    assert with_store(url, lambda s: s.get(seeded.running)).cancel_requested
