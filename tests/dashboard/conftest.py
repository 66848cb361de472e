"""Fixtures of the dashboard's tests: a real ``leadsync serve`` with the dashboard on, a logged-in HTTP
client, and real Chromium driven by Playwright (skipped, with the install command, where none exists)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.fixtures_sandbox import Leadsync
from tests.fixtures_server import Served, start_serve, wait_until

PASSWORD = "correct horse battery staple"
CHROMIUM = os.environ.get("LEADSYNC_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the dashboard reads the store through the same queries on either backend, and the
    store's own tests cover PostgreSQL; a browser run per backend would double the slowest tests."""
    return f"sqlite:///{tmp_path / 'state' / 'leadsync.db'}"


def serve_dashboard(leadsync: Leadsync, *, webhooks: bool, **env: str) -> Served:
    """``leadsync serve`` with the dashboard on, its start-up sweep done, and both webhooks registered
    when ``webhooks`` (otherwise changes travel only by "Sync now" or the sweep)."""
    server = start_serve(leadsync, LEADSYNC_DASHBOARD_PASSWORD=PASSWORD, **env)
    if webhooks:
        run = leadsync.run("webhooks", "register", env=leadsync.env(LEADSYNC_PUBLIC_URL=server.url))
        assert run.code == 0, f"{run.stdout}\n{run.stderr}"
    wait_until(lambda: server.health()["worker"]["last_sweep_at"] is not None, timeout=30)
    return server


@pytest.fixture
def board(leadsync: Leadsync) -> Iterator[Served]:
    """The server with its dashboard, without webhooks."""
    server = serve_dashboard(leadsync, webhooks=False)
    try:
        yield server
    finally:
        server.stop()


def log_in(client: httpx.Client, password: str = PASSWORD) -> httpx.Response:
    """Log in the way the form does: fetch the form (its token and cookie), post it back."""
    form = client.get("/login")
    token = form.text.split('name="login_token" value="', 1)[1].split('"', 1)[0]
    return client.post("/login", data={"login_token": token, "password": password})


@pytest.fixture
def browser_path() -> str:
    """Debian's Chromium, or a skip saying how to install it."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)) and not shutil.which("chromium"):
        pytest.skip(f"no Chromium at {CHROMIUM}: install it with 'apt-get install -y chromium'")
    return CHROMIUM if Path(CHROMIUM).is_file() else str(shutil.which("chromium"))


def screenshot_dir(tmp_path: Path) -> Path:
    """Where pages are photographed: ``docs/screenshots`` when ``LEADSYNC_SCREENSHOTS=1`` (to refresh the
    README's pictures), else the test's own directory (the committed ones stay untouched)."""
    if os.environ.get("LEADSYNC_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return tmp_path / "screenshots"


@pytest.fixture
def browser(browser_path: str) -> Iterator[Browser]:
    """Real Chromium (headless), driven by Playwright; never downloads a browser of its own."""
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's own sandbox can't start.
        chromium = playwright.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def open_dashboard(browser: Browser, url: str, *, phone: bool = False) -> Page:
    """A fresh browser context on the login page, logged in through the form."""
    size: ViewportSize = {"width": 390, "height": 844} if phone else {"width": 1200, "height": 900}
    page = browser.new_context(viewport=size, base_url=url).new_page()
    page.set_default_timeout(30_000)
    page.goto("/")
    assert page.url.endswith("/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page
