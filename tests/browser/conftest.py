"""Fixtures: the app behind a real HTTP server in a thread, and headless Chromium via Playwright."""
from __future__ import annotations

import os
import shutil

import pytest

from cpap_server.db import db
from cpap_server.services.tokens import create_token

from . import NO_PLAYWRIGHT
from .server import LiveServer, make_app

CHROMIUM_CANDIDATES = (os.environ.get("CPAP_CHROMIUM", ""), "/usr/bin/chromium", "chromium",
                       "chromium-browser")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(autouse=True)
def _empty_tables(request):
    """Tests that use a server start from empty tables; the others need no database."""
    if any(name.endswith("_server") for name in request.fixturenames):
        request.getfixturevalue("clean_db")


@pytest.fixture(scope="session")
def open_server(database_url):
    """The dashboard with CPAP_AUTH off, served over real HTTP."""
    server = LiveServer(make_app(database_url, auth=False))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def secured_server(database_url):
    """The dashboard with tokens enforced, served over real HTTP."""
    server = LiveServer(make_app(database_url, auth=True))
    yield server
    server.stop()


@pytest.fixture
def make_token(secured_server):
    """Create a token in the test database; returns its plaintext."""
    def make(role: str, name: str | None = None) -> str:
        with secured_server.app.app_context():
            plaintext, _ = create_token(db.session, name or f"{role}-token", role)
            db.session.remove()
        return plaintext
    return make


def find_chromium() -> str | None:
    """The Chromium binary to drive, if any is installed."""
    for candidate in CHROMIUM_CANDIDATES:
        found = candidate and shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian package) driven by Playwright; skips when either is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found: apt-get install chromium chromium-driver "
                    "(or set CPAP_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and page; fails the test on any JavaScript error."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"
